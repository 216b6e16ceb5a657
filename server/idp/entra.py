"""Microsoft Entra ID grants: Graph oauth2PermissionGrants joined to servicePrincipals,
app-only grants from app role assignments, and their dates from directoryAudits and
signIns (entra_activity.py).

A grant's clientId is the client service principal's object id, not its appId; the
service principal gives the appId, publisher and verified publisher. Also reads the CSV
that Get-AzureADPSPermissions and CrowdStrike's CRT write (research/idp-anchors.md s. 2).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowmap.server.idp import entra_activity as activity
from shadowmap.server.idp.common import domains, lower_email, sniff, split_scopes, text_or_none
from shadowmap.server.idp.events import Tally, apply_events
from shadowmap.server.idp.interface import (
    APP_ONLY,
    EVERYONE,
    ApiClient,
    App,
    Connector,
    ConsentType,
    Grant,
    GrantBatch,
    Identity,
    IdentityStatus,
    IdpFileInvalid,
    Provider,
    Skipped,
    covered,
)

logger = logging.getLogger(__name__)

# Tenants that own Microsoft's first-party apps (merill/microsoft-info, idp-anchors s. 2.2).
MICROSOFT_TENANTS = frozenset(
    {"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"}
)
# Graph v1.0 paths and the fields the correlation uses.
GRANTS_PATH = "/oauth2PermissionGrants"
SP_PATH = "/servicePrincipals"
USERS_PATH = "/users"
SP_FIELDS = (
    "id,appId,displayName,appDisplayName,publisherName,verifiedPublisher,"
    "appOwnerOrganizationId,homepage,replyUrls,info,servicePrincipalType,appRoles"
)
USER_FIELDS = "id,userPrincipalName,mail,displayName,accountEnabled"
PAGE_SIZE = "999"
# What a sweep names each optional read in its sources.
LIVE_SOURCES = {
    "roles": "appRoleAssignedTo",
    "audits": activity.AUDITS_PATH,
    "sign_ins": activity.SIGN_INS_PATH,
}
# The columns every Get-AzureADPSPermissions CSV has; CRT adds ClientAppId and UPNs.
CSV_COLUMNS = frozenset({"PermissionType", "ClientObjectId", "ClientDisplayName", "Permission"})


@dataclass
class Export:
    """The Graph collections one import read, by kind, and which kinds were read: the
    grants and roles listings are full state, so what they lack is revoked."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    sps: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    sign_ins: list[dict[str, Any]] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, kind: str, items: list[dict[str, Any]]) -> None:
        getattr(self, kind).extend(items)
        self.read.add(kind)


class EntraConnector(Connector):
    provider = Provider.ENTRA

    def read_files(self, paths: Sequence[Path]) -> GrantBatch:
        export = Export()
        rows: list[dict[str, str]] = []
        for path in paths:
            kind, data = sniff(path)
            if kind == "csv":
                rows.extend(_check_csv(data, path))
            else:
                export.add(*_classify(data, path))
        if rows:
            return _from_csv(rows, export)
        return join(export, ("graph export",))

    def sweep(self, api: ApiClient) -> GrantBatch:
        export = Export()
        export.add("grants", list(activity.graph_pages(api, GRANTS_PATH, {"$top": PAGE_SIZE})))
        sp_query = {"$top": PAGE_SIZE, "$select": SP_FIELDS}
        export.add("sps", list(activity.graph_pages(api, SP_PATH, sp_query)))
        user_query = {"$top": PAGE_SIZE, "$select": USER_FIELDS}
        export.add("users", list(activity.graph_pages(api, USERS_PATH, user_query)))
        sources = [GRANTS_PATH, SP_PATH, USERS_PATH]
        since = activity.since_days(datetime.now(UTC), self.lookback_days)
        for kind, (items, refused) in (
            ("roles", activity.read_assignments(api, export.sps)),
            ("audits", activity.read_audits(api, since)),
            ("sign_ins", activity.read_sign_ins(api, since)),
        ):
            if refused:
                export.skipped.append(refused)
            else:
                export.add(kind, items)
                sources.append(LIVE_SOURCES[kind])
        return join(export, tuple(sources))


def _classify(data: Any, path: Path) -> tuple[str, list[dict[str, Any]]]:
    items = data.get("value") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise IdpFileInvalid(f"{path} is not a Graph collection", hint="export with `value`")
    context = str(data.get("@odata.context", "")) if isinstance(data, dict) else ""
    first = next((i for i in items if isinstance(i, dict)), {})
    kind = _kind(context.lower(), first)
    if kind is None:
        raise IdpFileInvalid(
            f"{path} is not oauth2PermissionGrants, servicePrincipals, users, "
            "appRoleAssignments, directoryAudits or signIns",
            hint="export those Graph collections (docs/collector.md)",
        )
    return kind, [i for i in items if isinstance(i, dict)]


def _kind(context: str, first: dict[str, Any]) -> str | None:
    # Most specific first: sign-ins and role assignments carry appId and
    # userPrincipalName too, and an appRoleAssignedTo context names servicePrincipals.
    if "oauth2permissiongrants" in context or "consentType" in first:
        return "grants"
    if "/approleassign" in context or "appRoleId" in first:
        return "roles"
    if "directoryaudits" in context or "activityDisplayName" in first:
        return "audits"
    if "signins" in context or {"createdDateTime", "appId", "userId"} <= set(first):
        return "sign_ins"
    if "serviceprincipals" in context or "servicePrincipalType" in first or "appId" in first:
        return "sps"
    if "#users" in context or "userPrincipalName" in first:
        return "users"
    return None


def join(export: Export, sources: tuple[str, ...]) -> GrantBatch:
    """Grants joined to their service principals, app-only grants, then the dates the
    audit and sign-in logs give; full state only for the listings it read."""
    by_object = {str(sp.get("id")): sp for sp in export.sps if sp.get("id")}
    identities = _identities(export.users)
    tally = Tally()
    out, skipped = _delegated(export.grants, by_object)
    for grant in activity.app_only_grants(export.roles, by_object, tally):
        out[grant.key] = grant
    listings = (("grants", EVERYONE), ("roles", APP_ONLY))
    complete = frozenset(holder for kind, holder in listings if kind in export.read)
    events = activity.audit_events(export.audits, by_object, tally)
    events += activity.sign_in_events(export.sign_ins, tally)
    out = apply_events(Provider.ENTRA, out, events, lambda holder: covered(complete, holder))
    for made in out.values():
        if made.user_id and made.user_id not in identities:
            identities[made.user_id] = _missing_user(made.user_id, bool(export.users))
    apps = {app.client_id: app for app in (_app(sp) for sp in export.sps)}
    return GrantBatch(
        provider=Provider.ENTRA,
        identities=tuple(identities.values()),
        apps=tuple(apps.values()),
        grants=tuple(out.values()),
        complete_for=complete,
        skipped=tuple(skipped + export.skipped + tally.skipped()),
        sources=sources,
    )


def _delegated(
    grants: list[dict[str, Any]], by_object: dict[str, dict[str, Any]]
) -> tuple[dict[str, Grant], list[Skipped]]:
    out: dict[str, Grant] = {}
    skipped: list[Skipped] = []
    for grant in grants:
        client_sp = by_object.get(str(grant.get("clientId")))
        if client_sp is None:
            where = f"grant {grant.get('id')}"
            skipped.append(Skipped(where, "its client service principal is not in the import"))
        made = _grant(grant, client_sp, by_object.get(str(grant.get("resourceId"))))
        out[made.key] = made
    return out, skipped


def _grant(
    grant: dict[str, Any], client: dict[str, Any] | None, resource: dict[str, Any] | None
) -> Grant:
    admin = grant.get("consentType") in ("AllPrincipals", "Application")
    consent = {"AllPrincipals": ConsentType.ADMIN, "Application": ConsentType.APPLICATION}
    return Grant(
        provider=Provider.ENTRA,
        client_id=str((client or {}).get("appId") or grant.get("clientId")),
        user_id=None if admin else text_or_none(grant.get("principalId")),
        scopes=split_scopes(grant.get("scope")),
        consent=consent.get(str(grant.get("consentType")), ConsentType.USER),
        resource=str((resource or {}).get("appId") or grant.get("resourceId") or ""),
    )


def _app(sp: dict[str, Any]) -> App:
    verified = sp.get("verifiedPublisher") or {}
    info = sp.get("info") or {}
    return App(
        provider=Provider.ENTRA,
        client_id=str(sp.get("appId") or sp.get("id")),
        display_name=str(sp.get("displayName") or sp.get("appDisplayName") or sp.get("appId")),
        publisher=text_or_none(sp.get("publisherName")),
        verified_publisher=text_or_none(verified.get("displayName"))
        if verified.get("verifiedPublisherId")
        else None,
        domains=domains(sp.get("homepage"), *(sp.get("replyUrls") or []), info.get("marketingUrl")),
        first_party=sp.get("appOwnerOrganizationId") in MICROSOFT_TENANTS,
    )


def _identities(users: list[dict[str, Any]]) -> dict[str, Identity]:
    found = {}
    for user in users:
        if not user.get("id"):
            continue
        enabled = user.get("accountEnabled")
        status = IdentityStatus.UNKNOWN
        if isinstance(enabled, bool):
            status = IdentityStatus.ACTIVE if enabled else IdentityStatus.SUSPENDED
        email = lower_email(user.get("mail")) or lower_email(user.get("userPrincipalName"))
        name = text_or_none(user.get("displayName"))
        found[str(user["id"])] = Identity(Provider.ENTRA, str(user["id"]), email, name, status)
    return found


def _missing_user(user_id: str, users_read: bool) -> Identity:
    # With the tenant's user list read, a principal missing from it has been deleted.
    status = IdentityStatus.DELETED if users_read else IdentityStatus.UNKNOWN
    return Identity(Provider.ENTRA, user_id, status=status)


def _check_csv(rows: list[dict[str, str]], path: Path) -> list[dict[str, str]]:
    if not CSV_COLUMNS <= set(rows[0]):
        raise IdpFileInvalid(
            f"{path} is not a Get-AzureADPSPermissions or CRT permissions CSV",
            hint="expected PermissionType, ClientObjectId, ClientDisplayName, Permission, ...",
        )
    return rows


def _from_csv(rows: list[dict[str, str]], export: Export) -> GrantBatch:
    """One row per scope: grouped back into grants by type, client, resource and principal.
    It lists delegated and application permissions, so it is the full state of both."""
    grants: dict[str, dict[str, Any]] = {}
    sps: dict[str, dict[str, Any]] = {}
    for row in rows:
        grant = _csv_grant(row)
        grants.setdefault(grant["id"], grant)["scope"] += " " + row.get("Permission", "")
        for side in ("Client", "Resource"):
            object_id = row.get(f"{side}ObjectId")
            if object_id:
                sps.setdefault(
                    object_id,
                    {
                        "id": object_id,
                        "appId": row.get(f"{side}AppId") or object_id,
                        "displayName": row.get(f"{side}DisplayName"),
                    },
                )
    people = [_csv_user(row) for row in rows if row.get("PrincipalObjectId")]
    export.users = export.users or people
    export.add("grants", list(grants.values()))
    export.add("roles", [])
    export.sps = list(sps.values()) + export.sps
    return join(export, ("permissions csv",))


def _csv_grant(row: dict[str, str]) -> dict[str, Any]:
    """The Graph-shaped grant a row belongs to, with no scope yet."""
    application = row.get("PermissionType", "").lower() == "application"
    principal = "" if application else row.get("PrincipalObjectId", "")
    consent = "Application" if application else "Principal" if principal else "AllPrincipals"
    parts = (
        row.get("PermissionType", ""),
        row["ClientObjectId"],
        row.get("ResourceObjectId", ""),
        principal,
    )
    return {
        "id": "|".join(parts),
        "clientId": row["ClientObjectId"],
        "consentType": consent,
        "principalId": principal or None,
        "resourceId": row.get("ResourceObjectId"),
        "scope": "",
    }


def _csv_user(row: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row["PrincipalObjectId"],
        "displayName": row.get("PrincipalDisplayName"),
        "userPrincipalName": row.get("PrincipalUserPrincipalName"),
        "mail": row.get("PrincipalMail"),
    }
