"""Entra grant dates, use and app-only permissions: Graph directoryAudits (consents and
removals), signIns (successful sign-ins) and app role assignments (application
permissions), from export files or a live sweep.

Tolerant by design: a record of a shape it does not know is counted as skipped, with
the reason, and never raises. Reads only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from shadowmap.server.idp.common import (
    PageTrail,
    as_dict,
    as_list,
    parse_time,
    split_scopes,
    text_or_none,
)
from shadowmap.server.idp.events import EventKind, GrantEvent, Tally, optional_read
from shadowmap.server.idp.interface import (
    APP_ONLY,
    EVERYONE,
    ApiClient,
    ConsentType,
    Grant,
    Provider,
    Skipped,
)

logger = logging.getLogger(__name__)

# Activity names, from Microsoft Learn "Microsoft Entra audit log activity reference"
# (MicrosoftDocs/entra-docs, reference-audit-activities.md, Core Directory,
# ApplicationManagement).
CONSENT = "Consent to application"
GRANT_ADDED = "Add delegated permission grant"
GRANT_REMOVED = "Remove delegated permission grant"
ROLE_REMOVED = "Remove app role assignment from service principal"
AUDIT_ACTIVITIES = (CONSENT, GRANT_ADDED, GRANT_REMOVED, ROLE_REMOVED)
# Graph v1.0 paths (learn.microsoft.com/graph: List directoryAudits, List signIns, List
# appRoleAssignedTo). directoryAudits filters activityDisplayName with eq only, so one
# query per activity; signIns take a filter on status/errorCode (the AzureAD module's
# documented example `status/errorCode eq 0`).
AUDITS_PATH = "/auditLogs/directoryAudits"
SIGN_INS_PATH = "/auditLogs/signIns"
ASSIGNED_TO_PATH = "/servicePrincipals/{id}/appRoleAssignedTo"
PAGE_SIZE = "999"  # signIns allow 1,000 a page; the others 999
# modifiedProperties names seen in consent events (Splunk and Sentinel detections read
# ConsentAction.Permissions' "Scope:" and "ConsentType:"); the value layout is not a
# documented contract, so it is parsed leniently.
PERMISSIONS = "ConsentAction.Permissions"
IS_APP_ONLY = "ConsentContext.IsAppOnly"
ON_BEHALF_OF_ALL = "ConsentContext.OnBehalfOfAll"
CLIENT_SP = "ServicePrincipal.ObjectID"
GRANT_SCOPE = "DelegatedPermissionGrant.Scope"
ROLE_VALUE = "AppRole.Value"
SCOPE_IN_TEXT = re.compile(r"Scope:\s*([^,\]]*)")
CONSENT_TYPE_IN_TEXT = re.compile(r"ConsentType:\s*(\w+)")
PRINCIPAL_IN_TEXT = re.compile(r"PrincipalId:\s*([0-9a-fA-F-]{36})")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# appRoleId of "assigned to the app, no particular role" (Graph appRoleAssignment docs).
DEFAULT_ROLE = "00000000-0000-0000-0000-000000000000"
MICROSOFT_GRAPH = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph application permissions by id, for exports whose servicePrincipals
# lack appRoles (merill/microsoft-info _info/GraphAppRoles.csv).
GRAPH_APP_ROLES = {
    "810c84a8-4a9e-49e6-bf7d-12d183f40d01": "Mail.Read",
    "e2a3a72e-5f79-4c64-b1b1-878b674786c9": "Mail.ReadWrite",
    "b633e1c5-b582-4048-a93e-9f11b44c7e96": "Mail.Send",
    "01d4889c-1287-42c6-ac1f-5d1e02578ef6": "Files.Read.All",
    "75359482-378d-4052-8f01-80520e7db3cd": "Files.ReadWrite.All",
    "332a536c-c7ef-4017-ab91-336970924f0d": "Sites.Read.All",
    "9492366f-7969-46a4-8d15-ed1a20078fff": "Sites.ReadWrite.All",
    "798ee544-9d2d-430c-a058-570e29e34338": "Calendars.Read",
    "ef54d2bf-783f-4e0f-bca1-3210c0444d99": "Calendars.ReadWrite",
    "6b7d71aa-70aa-4810-a8d9-5d9fb2830017": "Chat.Read.All",
    "a4a80d8d-d283-4bd8-8504-555ec3870630": "OnlineMeetingTranscript.Read.All",
    "3aeca27b-ee3a-4c2b-8ded-80376e2134a4": "Notes.Read.All",
    "7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
    "19dbc75e-c2e2-444c-a770-ec69d8559fc7": "Directory.ReadWrite.All",
    "06b708a9-e830-4db3-a914-8e69da51d44f": "AppRoleAssignment.ReadWrite.All",
}
AUDIT_NEEDS = "AuditLog.Read.All"
SIGN_IN_NEEDS = "AuditLog.Read.All, Directory.Read.All and an Entra ID P1 or P2 licence"
ROLES_NEEDS = "Application.Read.All or Directory.Read.All"

SpMap = dict[str, dict[str, Any]]


# -- live ----------------------------------------------------------------------------------


def graph_pages(api: ApiClient, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every item of a Graph collection, following @odata.nextLink (which keeps the query)."""
    url: str | None = path
    query: dict[str, str] | None = params
    trail = PageTrail()
    while url:
        trail.visit(url, query)
        body = api.get_json(url, query).body
        if not isinstance(body, dict):
            return
        yield from (item for item in body.get("value") or [] if isinstance(item, dict))
        url, query = body.get("@odata.nextLink"), None


def read_audits(api: ApiClient, since: datetime) -> tuple[list[dict[str, Any]], Skipped | None]:
    """The consent and removal events since then, one query per activity name."""

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for name in AUDIT_ACTIVITIES:
            query = f"activityDisplayName eq '{name}' and activityDateTime ge {_odata(since)}"
            found += graph_pages(api, AUDITS_PATH, {"$filter": query, "$top": PAGE_SIZE})
        return found

    return optional_read(AUDITS_PATH, read, AUDIT_NEEDS)


def read_sign_ins(api: ApiClient, since: datetime) -> tuple[list[dict[str, Any]], Skipped | None]:
    """Successful sign-ins since then (Graph returns the newest first)."""
    query = f"createdDateTime ge {_odata(since)} and status/errorCode eq 0"
    params = {"$filter": query, "$top": "1000"}
    return optional_read(
        SIGN_INS_PATH, lambda: list(graph_pages(api, SIGN_INS_PATH, params)), SIGN_IN_NEEDS
    )


def read_assignments(
    api: ApiClient, sps: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Skipped | None]:
    """Who holds each API's application permissions: appRoleAssignedTo of every service
    principal that offers app roles to applications (one call per API, not per app)."""
    apis = [sp for sp in sps if sp.get("id") and _offers_app_roles(sp)]

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for sp in apis:
            path = ASSIGNED_TO_PATH.format(id=sp["id"])
            found += graph_pages(api, path, {"$top": PAGE_SIZE})
        return found

    return optional_read("appRoleAssignedTo", read, ROLES_NEEDS)


def since_days(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _odata(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _offers_app_roles(sp: dict[str, Any]) -> bool:
    return any(
        isinstance(r, dict) and "Application" in as_list(r.get("allowedMemberTypes"))
        for r in as_list(sp.get("appRoles"))
    )


# -- app role assignments -> app-only grants ---------------------------------------------


def app_only_grants(items: Iterable[dict[str, Any]], sps: SpMap, tally: Tally) -> list[Grant]:
    """One APPLICATION grant per (client, resource), its scopes the roles' names."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        reason = _unusable_assignment(item)
        if reason:
            tally.add("appRoleAssignments", reason)
            continue
        pair = (str(item["principalId"]), str(item["resourceId"]))
        grouped.setdefault(pair, []).append(item)
    return [
        _app_only(client, resource, parts, sps, tally)
        for (client, resource), parts in grouped.items()
    ]


def _unusable_assignment(item: dict[str, Any]) -> str | None:
    if not all(item.get(f) for f in ("principalId", "resourceId", "appRoleId")):
        return "no principalId, resourceId or appRoleId"
    if item.get("principalType") not in (None, "ServicePrincipal"):
        return f"assigned to a {item.get('principalType')}: app access, not a permission"
    if str(item["appRoleId"]) == DEFAULT_ROLE:
        return "the default role: access to the app, no permission"
    if item.get("deletedDateTime"):
        return "deleted"
    return None


def _app_only(
    client: str, resource: str, parts: list[dict[str, Any]], sps: SpMap, tally: Tally
) -> Grant:
    client_sp, resource_sp = sps.get(client), sps.get(resource) or {}
    if client_sp is None:
        tally.add("appRoleAssignments", "its client service principal is not in the import")
    resource_app = str(resource_sp.get("appId") or resource)
    names = tuple(dict.fromkeys(_role_name(p, resource_sp, resource_app) for p in parts))
    created = [t for t in (_created(p) for p in parts) if t]
    return Grant(
        provider=Provider.ENTRA,
        client_id=str((client_sp or {}).get("appId") or client),
        user_id=None,
        scopes=names,
        consent=ConsentType.APPLICATION,
        resource=resource_app,
        granted_at=min(created) if created else None,
    )


def _role_name(part: dict[str, Any], resource_sp: dict[str, Any], resource_app: str) -> str:
    role_id = str(part["appRoleId"])
    for role in as_list(resource_sp.get("appRoles")):
        if isinstance(role, dict) and str(role.get("id")) == role_id and role.get("value"):
            return str(role["value"])
    if resource_app == MICROSOFT_GRAPH and role_id in GRAPH_APP_ROLES:
        return GRAPH_APP_ROLES[role_id]
    return role_id  # unknown role: kept by id (scopes.py grades an unknown scope medium)


def _created(part: dict[str, Any]) -> datetime | None:
    # createdDateTime in Graph v1.0 today; creationTimestamp in older answers.
    return parse_time(part.get("createdDateTime")) or parse_time(part.get("creationTimestamp"))


# -- signIns -> use ------------------------------------------------------------------------


def sign_in_events(items: Iterable[dict[str, Any]], tally: Tally) -> list[GrantEvent]:
    """A use per successful sign-in (status.errorCode 0) of a user to an app."""
    found = []
    for item in items:
        if str(as_dict(item.get("status")).get("errorCode", "")) != "0":
            continue  # a failed sign-in is not use
        at = parse_time(item.get("createdDateTime"))
        user, app = text_or_none(item.get("userId")), text_or_none(item.get("appId"))
        if at is None or not user or not app:
            tally.add("signIns", "no createdDateTime, userId or appId")
            continue
        found.append(GrantEvent(EventKind.USE, at, user, app, app_name=item.get("appDisplayName")))
    return found


# -- directoryAudits -> grant and revoke ---------------------------------------------------


def audit_events(items: Iterable[dict[str, Any]], sps: SpMap, tally: Tally) -> list[GrantEvent]:
    """Consents and removals as events. A removal that shares its correlationId with an
    addition is an amended consent, not a revocation, and is dropped."""
    found: list[tuple[str, GrantEvent]] = []
    for item in items:
        name = item.get("activityDisplayName")
        if name not in AUDIT_ACTIVITIES or item.get("result") not in (None, "success"):
            continue  # another activity, or a failed one: no change to a grant
        at = parse_time(item.get("activityDateTime"))
        if at is None:
            tally.add("directoryAudits", f"{name}: no activityDateTime")
            continue
        made = list(_audit_event(str(name), at, item, sps, tally))
        found += [(str(item.get("correlationId") or ""), e) for e in made]
    added = {c for c, e in found if c and e.kind is EventKind.GRANT}
    return [e for c, e in found if not (e.kind is EventKind.REVOKE and c in added)]


def _audit_event(
    name: str, at: datetime, item: dict[str, Any], sps: SpMap, tally: Tally
) -> Iterator[GrantEvent]:
    props = _properties(item)
    if name == CONSENT:
        yield from _consent(at, item, props, sps, tally)
        return
    clients = _clients(item, props, sps)
    holder = APP_ONLY if name == ROLE_REMOVED else _grant_holder(item, props)
    if not clients or not holder:
        tally.add("directoryAudits", f"{name}: no known client service principal or user")
        return
    kind = EventKind.GRANT if name == GRANT_ADDED else EventKind.REVOKE
    for client in clients:
        yield GrantEvent(kind, at, holder, client)


def _consent(
    at: datetime, item: dict[str, Any], props: dict[str, str], sps: SpMap, tally: Tally
) -> Iterator[GrantEvent]:
    target = next((t for t in _targets(item) if _type(t) == "serviceprincipal"), {})
    client = str((sps.get(str(target.get("id"))) or {}).get("appId") or "")
    if not client:
        tally.add("directoryAudits", f"{CONSENT}: its service principal is not in the import")
        return
    permissions = props.get(PERMISSIONS, "")
    if _true(props.get(IS_APP_ONLY)):
        consent, holder = ConsentType.APPLICATION, APP_ONLY
    elif _true(props.get(ON_BEHALF_OF_ALL)):
        consent, holder = ConsentType.ADMIN, EVERYONE
    else:
        principal = PRINCIPAL_IN_TEXT.search(permissions)
        user = principal.group(1) if principal else _initiator(item)
        consent, holder = ConsentType.USER, user or ""
    if not holder:
        tally.add("directoryAudits", f"{CONSENT}: no consenting user")
        return
    scopes = split_scopes(" ".join(SCOPE_IN_TEXT.findall(permissions)))
    name = text_or_none(target.get("displayName"))
    yield GrantEvent(EventKind.GRANT, at, holder, client, consent, scopes, True, name)


def _grant_holder(item: dict[str, Any], props: dict[str, str]) -> str | None:
    """Whose delegated grant an Add or Remove is: everyone for AllPrincipals, else the
    principal it names, else the user who made the change (removing their own consent)."""
    text = " ".join(props.values())
    kind = CONSENT_TYPE_IN_TEXT.search(text)
    if (kind and kind.group(1) == "AllPrincipals") or "AllPrincipals" in props.values():
        return EVERYONE
    for key, value in props.items():
        if key.endswith("PrincipalId") and GUID.match(value):
            return value
    principal = PRINCIPAL_IN_TEXT.search(text)
    return principal.group(1) if principal else _initiator(item)


def _clients(item: dict[str, Any], props: dict[str, str], sps: SpMap) -> list[str]:
    """The appIds of the service principals an event names; only existing grants of
    these are touched, so naming the resource (Microsoft Graph) too does no harm."""
    ids = [props.get(CLIENT_SP, "")]
    ids += [str(t.get("id")) for t in _targets(item) if _type(t) == "serviceprincipal"]
    found = [str((sps.get(i) or {}).get("appId") or "") for i in ids if i]
    return list(dict.fromkeys(a for a in found if a))


def _initiator(item: dict[str, Any]) -> str | None:
    return text_or_none(as_dict(as_dict(item.get("initiatedBy")).get("user")).get("id"))


def _targets(item: dict[str, Any]) -> list[dict[str, Any]]:
    targets = item.get("targetResources")
    return [t for t in targets if isinstance(t, dict)] if isinstance(targets, list) else []


def _type(target: dict[str, Any]) -> str:
    # Graph's own example writes "Type"; answers write "type".
    return str(target.get("type") or target.get("Type") or "").lower()


def _properties(item: dict[str, Any]) -> dict[str, str]:
    """Every target's modifiedProperties by name: the new value, else the old one."""
    found: dict[str, str] = {}
    for target in _targets(item):
        for prop in as_list(target.get("modifiedProperties")):
            if isinstance(prop, dict) and prop.get("displayName"):
                value = _decoded(prop.get("newValue")) or _decoded(prop.get("oldValue"))
                found.setdefault(str(prop["displayName"]), value)
    return found


def _decoded(raw: object) -> str:
    """A modifiedProperty value: JSON-encoded text ("\\"True\\"", "[\\"x\\"]") or plain."""
    if not isinstance(raw, str):
        return ""
    try:
        value: Any = json.loads(raw)
    except (ValueError, RecursionError):  # plain text, or nested past the recursion limit
        return raw.strip()
    if isinstance(value, list):
        return " ".join(str(v) for v in value).strip()
    return str(value).strip()


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
