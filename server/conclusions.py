"""What an analyst concludes from the graph: shadow AI, risky scopes, lookalikes, grants of
people who are gone, unused grants, revocations one IdP missed, shared keys, MCP servers
with IdP grants.

Each conclusion has a stable kind (docs/collector.md lists them), a severity, and the
evidence it rests on; nothing here writes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shadowmap.server.inventory import GrantView, Inventory, Sighting, VendorNode, keys_by_hash
from shadowmap.server.scopes import Level, short_name

logger = logging.getLogger(__name__)

# The MCP service areas a grant's scopes must touch to be that server's (signatures
# mcp_services.yaml `reaches`, against scopes.py areas).
REACH_AREAS = {
    "email_calendar_files": frozenset({"mail", "calendar", "files", "contacts"}),
    "documents": frozenset({"files"}),
}
# Which IdP holds the grants for the data an MCP service vendor serves.
SERVICE_IDP = {"microsoft": "entra", "google": "google"}
ACTIVE = "active"
# A grant unused this long before the freshest use its IdP shows is stale (MDCA's "last
# authorized" hunting; DFIR-Companion #982: authorization is not use).
STALE_DAYS = 90
APP_ONLY = "application"  # the consent of an app-only grant (ConsentType.APPLICATION)


@dataclass(frozen=True)
class Conclusion:
    kind: str
    severity: str
    title: str
    detail: str
    vendor: str | None = None
    person_id: int | None = None
    device_id: str | None = None
    grant_ids: tuple[int, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)


def derive(inventory: Inventory) -> list[Conclusion]:
    found: list[Conclusion] = []
    for vendor in inventory.vendors.values():
        found += _vendor_conclusions(vendor)
    found += _lookalikes(inventory)
    found += _unvetted(inventory)
    found += _inactive_users(inventory)
    found += _stale_grants(inventory)
    found += _revoked_elsewhere(inventory)
    found += _shared_keys(inventory)
    found += _mcp_with_grants(inventory)
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return sorted(found, key=lambda c: (order.get(c.severity, 5), c.kind, c.title))


def _vendor_conclusions(vendor: VendorNode) -> list[Conclusion]:
    live = [g for g in vendor.grants if g.status == ACTIVE]
    found = [c for g in live if (c := _tenant_wide(vendor, g))]
    if vendor.sanctioned.sanctioned:
        return [c for g in live if (c := _risky(vendor, g))] + found
    if live or vendor.running or vendor.keys:
        severity = "high" if vendor.in_catalog else "medium"
        detail = f"Not sanctioned ({vendor.sanctioned.reason}); {_where(live, vendor.running)}"
        found.insert(
            0,
            Conclusion(
                "shadow_ai",
                severity,
                f"Shadow AI: {vendor.name}",
                detail,
                vendor=vendor.key,
                grant_ids=tuple(g.id for g in live),
            ),
        )
    return found


def _risky(vendor: VendorNode, grant: GrantView) -> Conclusion | None:
    extra = vendor.sanctioned.unsanctioned_scopes(grant.scopes)
    if not extra:
        return None
    app = f"{grant.app_name} app-only access" if grant.consent == APP_ONLY else grant.app_name
    detail = f"{_who(grant)} granted {app} ({grant.provider}): {_scopes(extra)}"
    return Conclusion(
        "risky_scopes",
        _level(grant),
        f"{vendor.name} holds scopes beyond sign-in",
        detail,
        vendor=vendor.key,
        person_id=grant.person_id,
        grant_ids=(grant.id,),
        evidence={"scopes": extra},
    )


def _tenant_wide(vendor: VendorNode, grant: GrantView) -> Conclusion | None:
    if grant.consent not in ("admin", APP_ONLY) or grant.reach.sign_in_only:
        return None
    if grant.consent == APP_ONLY:
        title = f"{vendor.name} has app-only permissions"
        detail = (
            f"an admin gave {grant.app_name} app-only access, with no user in the loop: "
            f"{_scopes(grant.scopes)}"
        )
    else:
        title = f"{vendor.name} has tenant-wide consent"
        detail = f"an admin consented {grant.app_name} for every user: {_scopes(grant.scopes)}"
    severity = "critical" if _level(grant) == "critical" else "high"
    return Conclusion(
        "tenant_wide_consent", severity, title, detail, vendor=vendor.key, grant_ids=(grant.id,)
    )


def _where(grants: list[GrantView], running: list[Sighting]) -> str:
    parts = []
    if grants:
        parts.append(
            f"{len(grants)} live grant(s) by "
            f"{len({g.person_email or g.user_name for g in grants})} user(s)"
        )
    if running:
        parts.append(f"its software on {len({s.place_id for s in running})} device(s)")
    return ", ".join(parts) or "keys for it were found"


def _level(grant: GrantView) -> str:
    """High for data scopes; critical when the app holds them app-only, for every
    mailbox or file at once (idp-anchors s. 2.3)."""
    if grant.reach.level.rank < Level.HIGH.rank:
        return "medium"
    return "critical" if grant.consent == APP_ONLY else "high"


def _scopes(scopes: list[str] | tuple[str, ...]) -> str:
    return ", ".join(short_name(scope) for scope in scopes)


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _who(grant: GrantView) -> str:
    everyone = "an admin" if grant.consent == APP_ONLY else "an admin for everyone"
    return grant.person_email or grant.user_name or everyone


def _lookalikes(inventory: Inventory) -> list[Conclusion]:
    found = []
    for app in inventory.apps:
        target = app.match.lookalike_of
        if not target:
            continue
        vendor = inventory.catalog.vendor(target)
        grants = [g for g in inventory.grants if g.app_id == app.id and g.status == ACTIVE]
        severity = (
            "critical" if any(g.reach.level.rank >= Level.HIGH.rank for g in grants) else "high"
        )
        severity = severity if app.match.confidence == "high" else "medium"
        found.append(
            Conclusion(
                "lookalike_app",
                severity,
                f"Lookalike of {vendor.name if vendor else target}: {app.name}",
                "; ".join(app.match.reasons) + f"; {len(grants)} live grant(s)",
                vendor=target,
                grant_ids=tuple(g.id for g in grants),
                evidence={"publisher": app.publisher, "client_id": app.client_id},
            )
        )
    return found


def _unvetted(inventory: Inventory) -> list[Conclusion]:
    """Live grants with data access to apps no catalog knows (neither AI nor not AI) and
    that the IdP's own vendor does not publish."""
    found = []
    for grant in inventory.grants:
        match = grant.match
        known = match.vendor_id or match.not_ai or match.lookalike_of or grant.first_party
        if known or grant.status != ACTIVE or grant.reach.sign_in_only:
            continue
        mcp = "mcp" in grant.app_name.casefold()
        what = "MCP server OAuth client" if mcp else "Unknown app"
        title = f"{what} with {', '.join(grant.reach.areas)} access"
        found.append(
            Conclusion(
                "unvetted_app",
                _level(grant),
                f"{title}: {grant.app_name}",
                f"{_who(grant)} granted {_scopes(grant.scopes)} ({grant.provider})",
                person_id=grant.person_id,
                grant_ids=(grant.id,),
                evidence={"native_app": grant.native, "mcp_client": mcp},
            )
        )
    return found


def _inactive_users(inventory: Inventory) -> list[Conclusion]:
    found = []
    for grant in inventory.grants:
        if grant.status == ACTIVE and grant.identity_status in ("suspended", "deleted"):
            found.append(
                Conclusion(
                    "grant_of_inactive_user",
                    "high",
                    f"Live grant of a {grant.identity_status} user: {grant.app_name}",
                    f"{_who(grant)} is {grant.identity_status} in {grant.provider}; "
                    f"{grant.app_name} still holds {_scopes(grant.scopes)}",
                    vendor=grant.match.vendor_id,
                    person_id=grant.person_id,
                    grant_ids=(grant.id,),
                )
            )
    return found


def _stale_grants(inventory: Inventory) -> list[Conclusion]:
    """Live data grants to AI apps whose last use is STALE_DAYS older than the newest use
    the same IdP reports: measured against the IdP's own data, not the clock, so an import
    of old exports does not call everything stale. A grant with no recorded use is not
    judged (the audit logs read may not reach back to it)."""
    newest: dict[str, datetime] = {}
    for grant in inventory.grants:
        if grant.last_used_at:
            seen = newest.get(grant.provider, grant.last_used_at)
            newest[grant.provider] = max(seen, grant.last_used_at)
    found = []
    for grant in inventory.grants:
        as_of = newest.get(grant.provider)
        used = grant.last_used_at
        if not (as_of and used and grant.status == ACTIVE and grant.match.vendor_id):
            continue
        idle = (as_of - used).days
        if idle < STALE_DAYS or grant.reach.sign_in_only:
            continue
        name = inventory.vendors[grant.match.vendor_id].name
        found.append(
            Conclusion(
                "stale_grant",
                "medium",
                f"Unused {name} grant: {grant.app_name}",
                f"{_who(grant)} last used {grant.app_name} ({grant.provider}) on "
                f"{used.date().isoformat()}, {idle} days before the newest use {grant.provider} "
                f"shows; it still holds {_scopes(grant.scopes)}. Revoke it if it is not needed",
                vendor=grant.match.vendor_id,
                person_id=grant.person_id,
                grant_ids=(grant.id,),
                evidence={"last_used_at": used.isoformat(), "as_of": as_of.isoformat()},
            )
        )
    return found


def _revoked_elsewhere(inventory: Inventory) -> list[Conclusion]:
    by_pair: dict[tuple[int, str], list[GrantView]] = defaultdict(list)
    for grant in inventory.grants:
        if grant.person_id and grant.match.vendor_id:
            by_pair[(grant.person_id, grant.match.vendor_id)].append(grant)
    found = []
    for (person_id, vendor_id), grants in by_pair.items():
        revoked = {g.provider for g in grants if g.status == "revoked"}
        live = {g.provider for g in grants if g.status == ACTIVE} - revoked
        if revoked and live:
            name = inventory.vendors[vendor_id].name
            email = inventory.people[person_id].email
            found.append(
                Conclusion(
                    "revoked_in_one_idp_live_in_another",
                    "high",
                    f"{name}: revoked in {_list(revoked)}, live in {_list(live)}",
                    f"{email} revoked {name} in {_list(revoked)} "
                    f"but it still holds a grant in {_list(live)}",
                    vendor=vendor_id,
                    person_id=person_id,
                    grant_ids=tuple(g.id for g in grants),
                )
            )
    return found


def _shared_keys(inventory: Inventory) -> list[Conclusion]:
    found = []
    for value_hash, places in keys_by_hash(inventory).items():
        distinct = {(s.place_kind, s.place_id) for s in places}
        if len(distinct) < 2:
            continue
        names = sorted({f"{s.place_kind} {s.place_name}" for s in places})
        first = places[0]
        found.append(
            Conclusion(
                "shared_key",
                "high",
                f"The same {first.vendor or ''} key in {len(distinct)} places".replace("  ", " "),
                f"{first.preview or 'a key'} is in " + ", ".join(names),
                vendor=first.vendor,
                evidence={"value_hash": value_hash, "places": names},
            )
        )
    return found


def _mcp_with_grants(inventory: Inventory) -> list[Conclusion]:
    """An MCP server on someone's laptop, and their IdP grant to the same data."""
    found = []
    for server in (s for s in inventory.sightings if s.kind == "mcp_server" and s.person_id):
        areas = REACH_AREAS.get(str(server.evidence.get("reaches")), frozenset())
        idp = SERVICE_IDP.get(str(server.vendor))
        for grant in inventory.grants:
            if (
                grant.person_id != server.person_id
                or grant.status != ACTIVE
                or grant.provider != idp
            ):
                continue
            how = _how_linked(inventory, server, grant, areas)
            if how:
                found.append(_mcp_conclusion(inventory, server, grant, how))
    return found


def _how_linked(
    inventory: Inventory, server: Sighting, grant: GrantView, areas: frozenset[str]
) -> str | None:
    if not areas & set(grant.reach.areas):
        return None
    name = grant.app_name.casefold()
    if "mcp" in name or str(server.evidence.get("server", "")).casefold() in name:
        return "the grant is the MCP server's own OAuth client"
    client_vendor = str(server.evidence.get("client_vendor") or "")
    if client_vendor and grant.match.vendor_id == _catalog_key(inventory, client_vendor):
        return "the MCP client's vendor holds a grant to the same data"
    return None


def _catalog_key(inventory: Inventory, signature_vendor: str) -> str | None:
    found = inventory.catalog.for_signature_vendor(signature_vendor)
    return found.id if found else None


def _mcp_conclusion(
    inventory: Inventory, server: Sighting, grant: GrantView, how: str
) -> Conclusion:
    apps = [
        s
        for s in inventory.sightings
        if s.place_id == server.place_id
        and s.kind in ("app", "cli_agent")
        and s.vendor == server.evidence.get("client_vendor")
    ]
    evidence = {
        "person": grant.person_email,
        "device": server.place_name,
        "apps": [a.title for a in apps],
        "mcp_server": server.title,
        "service": server.evidence.get("service"),
        "grant": {"provider": grant.provider, "app": grant.app_name, "scopes": grant.scopes},
        "link": how,
    }
    return Conclusion(
        "mcp_server_with_idp_grant",
        _level(grant),
        f"{server.title} on {server.place_name}, with {grant.app_name}'s {grant.provider} grant",
        f"{grant.person_email}: {how}; the grant holds "
        + (_scopes(grant.reach.risky) or "sign-in scopes"),
        vendor=grant.match.vendor_id,
        person_id=grant.person_id,
        device_id=server.place_id,
        grant_ids=(grant.id,),
        evidence=evidence,
    )
