"""The organisation's graph: vendor -> apps, grants, devices running its app, MCP servers
pointing at it or living in its client, and keys for it, across devices and repositories.

Read-only: built from the database and the catalog on each call, so every replica that
shares the database draws the same graph. conclusions.py derives the findings from it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shadowmap.server import sanction, trust, trust_policy
from shadowmap.server.scopes import GrantReach
from shadowmap.server.scopes import reach as scope_reach
from shadowmap.server.tables import (
    Device,
    FindingRecord,
    FindingStatus,
    IdpApp,
    IdpGrant,
    IdpIdentity,
    Person,
    PersonDevice,
    RepoFinding,
    Repository,
)
from shadowmap.server.vendor_match import AppFacts, VendorMatch, match_app
from shadowmap.signatures.catalog import Catalog, load_catalog

logger = logging.getLogger(__name__)

# Finding kinds that mean "this vendor's software runs on the device".
APP_KINDS = frozenset({"app", "cli_agent", "ide_extension", "browser_extension", "model_server"})
# Prefix of vendor keys that signatures know but the catalog does not score.
UNCATALOGUED = "sig:"


@dataclass
class AppView:
    id: int
    provider: str
    client_id: str
    name: str
    publisher: str | None
    verified_publisher: str | None
    sso_status: str | None
    sso_note: str | None
    native: bool
    match: VendorMatch
    first_party: bool = False  # the IdP's own vendor publishes it (Microsoft's tenants)


@dataclass
class GrantView:
    id: int
    provider: str
    app_id: int
    app_name: str
    client_id: str
    person_id: int | None
    person_email: str | None
    user_name: str | None
    identity_status: str
    scopes: list[str]
    reach: GrantReach
    consent: str
    status: str
    granted_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    first_seen: datetime
    match: VendorMatch
    native: bool
    first_party: bool = False


@dataclass
class Sighting:
    """A finding on a device or in a repository, in the shape the graph needs."""

    place_kind: str  # device or repository
    place_id: str
    place_name: str
    finding_id: str
    kind: str
    title: str
    severity: str
    vendor: str | None
    evidence: dict[str, Any]
    location: str | None
    preview: str | None
    value_hash: str | None
    first_seen: datetime
    person_id: int | None = None
    user: str | None = None


@dataclass
class VendorNode:
    key: str  # a catalog vendor id, or "sig:<signatures vendor id>"
    name: str
    kind: str
    in_catalog: bool
    sanctioned: sanction.Decision
    trust: trust.TrustScore | None
    apps: list[AppView] = field(default_factory=list)
    grants: list[GrantView] = field(default_factory=list)
    running: list[Sighting] = field(default_factory=list)
    mcp_servers: list[Sighting] = field(default_factory=list)
    keys: list[Sighting] = field(default_factory=list)

    @property
    def people(self) -> set[int]:
        found = {g.person_id for g in self.grants if g.person_id}
        found |= {
            s.person_id for s in (*self.running, *self.mcp_servers, *self.keys) if s.person_id
        }
        return found


@dataclass
class Inventory:
    vendors: dict[str, VendorNode]
    apps: list[AppView]
    grants: list[GrantView]
    sightings: list[Sighting]
    people: dict[int, Person]
    devices: dict[str, Device]
    repositories: dict[str, Repository]
    device_people: dict[str, int]
    links: dict[str, PersonDevice]
    identities: list[IdpIdentity]
    catalog: Catalog


def build(session: Session) -> Inventory:
    catalog = load_catalog()
    people = {p.id: p for p in session.scalars(select(Person))}
    devices = {d.id: d for d in session.scalars(select(Device))}
    links = {link.device_id: link for link in session.scalars(select(PersonDevice))}
    device_people = {device_id: link.person_id for device_id, link in links.items()}
    repositories = {r.id: r for r in session.scalars(select(Repository))}
    identities = list(session.scalars(select(IdpIdentity)))
    apps = {a.id: _app_view(catalog, a) for a in session.scalars(select(IdpApp))}
    grants = _grants(session, apps, people, {i.id: i for i in identities})
    sightings = _sightings(session, devices, repositories, device_people)
    decisions = sanction.decisions(session, catalog, list(apps.values()))
    policy = trust_policy.load(session)
    vendors = _vendors(catalog, list(apps.values()), grants, sightings, decisions, policy)
    return Inventory(
        vendors,
        list(apps.values()),
        grants,
        sightings,
        people,
        devices,
        repositories,
        device_people,
        links,
        identities,
        catalog,
    )


def _app_view(catalog: Catalog, app: IdpApp) -> AppView:
    return AppView(
        id=app.id,
        provider=app.provider,
        client_id=app.client_id,
        name=app.display_name,
        publisher=app.publisher,
        verified_publisher=app.verified_publisher,
        sso_status=app.sso_status,
        sso_note=app.sso_note,
        native=app.native,
        match=match_app(catalog, _facts(app)),
        first_party=app.first_party,
    )


def _grants(
    session: Session,
    apps: dict[int, AppView],
    people: dict[int, Person],
    identities: dict[int, IdpIdentity],
) -> list[GrantView]:
    views = []
    for grant in session.scalars(select(IdpGrant).order_by(IdpGrant.id)):
        app = apps[grant.app_id]
        identity = identities.get(grant.identity_id or -1)
        person = people.get(identity.person_id or -1) if identity else None
        views.append(
            GrantView(
                id=grant.id,
                provider=grant.provider,
                app_id=app.id,
                app_name=app.name,
                client_id=app.client_id,
                person_id=person.id if person else None,
                person_email=person.email if person else None,
                user_name=(identity.display_name or identity.email or identity.external_id)
                if identity
                else None,
                identity_status=identity.status if identity else "everyone",
                scopes=list(grant.scopes),
                reach=scope_reach(grant.scopes),
                consent=grant.consent,
                status=grant.status,
                granted_at=grant.granted_at,
                last_used_at=grant.last_used_at,
                revoked_at=grant.revoked_at,
                first_seen=grant.first_seen,
                match=app.match,
                native=app.native,
                first_party=app.first_party,
            )
        )
    return views


def _facts(app: IdpApp) -> AppFacts:
    return AppFacts(
        provider=app.provider,
        client_id=app.client_id,
        display_name=app.display_name,
        publisher=app.publisher,
        verified_publisher=app.verified_publisher,
        domains=tuple(app.domains or ()),
        first_party=app.first_party,
    )


def _sightings(
    session: Session,
    devices: dict[str, Device],
    repositories: dict[str, Repository],
    device_people: dict[str, int],
) -> list[Sighting]:
    found = []
    open_findings = select(FindingRecord).where(FindingRecord.status == FindingStatus.OPEN.value)
    for row in session.scalars(open_findings):
        device = devices[row.device_id]
        found.append(
            _sighting(
                "device",
                device.id,
                device.hostname,
                row.finding_id,
                row.data,
                row.first_seen,
                device_people.get(device.id),
            )
        )
    open_repo = select(RepoFinding).where(RepoFinding.status == FindingStatus.OPEN.value)
    for repo_row in session.scalars(open_repo):
        repo = repositories[repo_row.repository_id]
        found.append(
            _sighting(
                "repository",
                repo.id,
                repo.name,
                repo_row.finding_id,
                repo_row.data,
                repo_row.first_seen,
                None,
            )
        )
    return found


def _sighting(
    place_kind: str,
    place_id: str,
    place_name: str,
    finding_id: str,
    data: dict[str, Any],
    first_seen: datetime,
    person_id: int | None,
) -> Sighting:
    location = data.get("location") or {}
    secret = data.get("secret") or {}
    return Sighting(
        place_kind=place_kind,
        place_id=place_id,
        place_name=place_name,
        finding_id=finding_id,
        kind=str(data.get("kind")),
        title=str(data.get("title")),
        severity=str(data.get("severity")),
        vendor=data.get("vendor"),
        evidence=dict(data.get("evidence") or {}),
        location=location.get("path"),
        preview=secret.get("preview"),
        value_hash=data.get("value_hash"),
        first_seen=first_seen,
        person_id=person_id,
        user=data.get("user"),
    )


def _vendors(
    catalog: Catalog,
    apps: list[AppView],
    grants: list[GrantView],
    sightings: list[Sighting],
    decisions: dict[str, sanction.Decision],
    policy: trust.TrustPolicy,
) -> dict[str, VendorNode]:
    nodes: dict[str, VendorNode] = {}

    def node(key: str) -> VendorNode:
        if key not in nodes:
            nodes[key] = _new_node(catalog, key, decisions, policy)
        return nodes[key]

    for app in apps:
        if app.match.vendor_id:
            node(app.match.vendor_id).apps.append(app)
    for grant in grants:
        if grant.match.vendor_id:
            node(grant.match.vendor_id).grants.append(grant)
    for sighting in sightings:
        for key, role in _roles(catalog, sighting):
            getattr(node(key), role).append(sighting)
    return dict(sorted(nodes.items(), key=lambda item: item[1].name.casefold()))


def _roles(catalog: Catalog, sighting: Sighting) -> list[tuple[str, str]]:
    """Which vendors a finding belongs to, and as what: running, mcp_servers or keys."""
    roles = []
    if sighting.kind == "mcp_server":
        for vendor in {sighting.vendor, sighting.evidence.get("client_vendor")} - {None, ""}:
            roles.append((vendor_key(catalog, str(vendor)), "mcp_servers"))
    elif sighting.kind == "secret" and sighting.vendor:
        roles.append((vendor_key(catalog, sighting.vendor), "keys"))
    elif sighting.kind in APP_KINDS and sighting.vendor:
        roles.append((vendor_key(catalog, sighting.vendor), "running"))
    return roles


def vendor_key(catalog: Catalog, signature_vendor: str) -> str:
    found = catalog.for_signature_vendor(signature_vendor) or catalog.vendor(signature_vendor)
    return found.id if found else UNCATALOGUED + signature_vendor


def _new_node(
    catalog: Catalog,
    key: str,
    decisions: dict[str, sanction.Decision],
    policy: trust.TrustPolicy,
) -> VendorNode:
    decision = decisions.get(key) or sanction.undecided()
    vendor = catalog.vendor(key)
    if vendor is None:
        name = sanction.signature_vendor_name(key.removeprefix(UNCATALOGUED))
        return VendorNode(key, name, "uncatalogued", False, decision, None)
    setting = decision.setting
    score = trust.score_vendor(
        vendor,
        override=setting.trust_override if setting else None,
        override_reason=setting.override_reason if setting else None,
        policy=policy,
    )
    return VendorNode(key, vendor.name, vendor.kind, True, decision, score)


def keys_by_hash(inventory: Inventory) -> dict[str, list[Sighting]]:
    """Every open key by its keyed hash: the places one credential is in."""
    found: dict[str, list[Sighting]] = defaultdict(list)
    for sighting in inventory.sightings:
        if sighting.kind == "secret" and sighting.value_hash:
            found[sighting.value_hash].append(sighting)
    return dict(found)
