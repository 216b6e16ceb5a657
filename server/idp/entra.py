"""Microsoft Entra ID grants: Graph oauth2PermissionGrants joined to servicePrincipals.

A grant's clientId is the client service principal's object id, not its appId; the
service principal gives the appId, publisher and verified publisher. Also reads the CSV
that Get-AzureADPSPermissions and CrowdStrike's CRT write (research/idp-anchors.md s. 2).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shadowmap.server.idp.common import domains, lower_email, sniff, split_scopes, text_or_none
from shadowmap.server.idp.interface import (
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
    "appOwnerOrganizationId,homepage,replyUrls,info,servicePrincipalType"
)
USER_FIELDS = "id,userPrincipalName,mail,displayName,accountEnabled"
PAGE_SIZE = "999"
# The columns every Get-AzureADPSPermissions CSV has; CRT adds ClientAppId and UPNs.
CSV_COLUMNS = frozenset({"PermissionType", "ClientObjectId", "ClientDisplayName", "Permission"})


class EntraConnector(Connector):
    provider = Provider.ENTRA

    def read_files(self, paths: Sequence[Path]) -> GrantBatch:
        found: dict[str, list[dict[str, Any]]] = {"grants": [], "sps": [], "users": []}
        rows: list[dict[str, str]] = []
        for path in paths:
            kind, data = sniff(path)
            if kind == "csv":
                rows.extend(_check_csv(data, path))
            else:
                what, items = _classify(data, path)
                found[what].extend(items)
        if rows:
            return _from_csv(rows, found["users"])
        return join(found["grants"], found["sps"], found["users"], ("graph export",))

    def sweep(self, api: ApiClient) -> GrantBatch:
        grants = list(_pages(api, GRANTS_PATH, {"$top": PAGE_SIZE}))
        sps = list(_pages(api, SP_PATH, {"$top": PAGE_SIZE, "$select": SP_FIELDS}))
        users = list(_pages(api, USERS_PATH, {"$top": PAGE_SIZE, "$select": USER_FIELDS}))
        return join(grants, sps, users, (GRANTS_PATH, SP_PATH, USERS_PATH))


def _pages(api: ApiClient, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every item of a Graph collection, following @odata.nextLink (which keeps the query)."""
    url: str | None = path
    query: dict[str, str] | None = params
    while url:
        body = api.get_json(url, query).body
        if not isinstance(body, dict):
            return
        yield from (item for item in body.get("value") or [] if isinstance(item, dict))
        url, query = body.get("@odata.nextLink"), None


def _classify(data: Any, path: Path) -> tuple[str, list[dict[str, Any]]]:
    items = data.get("value") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise IdpFileInvalid(f"{path} is not a Graph collection", hint="export with `value`")
    context = str(data.get("@odata.context", "")) if isinstance(data, dict) else ""
    first = next((i for i in items if isinstance(i, dict)), {})
    if "oauth2PermissionGrants" in context or "consentType" in first:
        return "grants", items
    if "servicePrincipals" in context or "servicePrincipalType" in first or "appId" in first:
        return "sps", items
    if "#users" in context or "userPrincipalName" in first:
        return "users", items
    raise IdpFileInvalid(
        f"{path} is not oauth2PermissionGrants, servicePrincipals or users",
        hint="export those three Graph collections (docs/collector.md)",
    )


def join(
    grants: list[dict[str, Any]],
    sps: list[dict[str, Any]],
    users: list[dict[str, Any]],
    sources: tuple[str, ...],
) -> GrantBatch:
    by_object = {str(sp.get("id")): sp for sp in sps if sp.get("id")}
    identities = _identities(users)
    skipped: list[Skipped] = []
    out: dict[str, Grant] = {}
    for grant in grants:
        client_sp = by_object.get(str(grant.get("clientId")))
        if client_sp is None:
            skipped.append(
                Skipped(
                    f"grant {grant.get('id')}", "its client service principal is not in the import"
                )
            )
        made = _grant(grant, client_sp, by_object.get(str(grant.get("resourceId"))))
        if made.user_id and made.user_id not in identities:
            identities[made.user_id] = _missing_user(made.user_id, bool(users))
        out[made.key] = made
    apps = {app.client_id: app for app in (_app(sp) for sp in sps)}
    return GrantBatch(
        provider=Provider.ENTRA,
        identities=tuple(identities.values()),
        apps=tuple(apps.values()),
        grants=tuple(out.values()),
        complete_for=frozenset({"*"}),  # the grants collection is the tenant's whole state
        skipped=tuple(skipped),
        sources=sources,
    )


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


def _from_csv(rows: list[dict[str, str]], users: list[dict[str, Any]]) -> GrantBatch:
    """One row per scope: grouped back into grants by type, client, resource and principal."""
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
    return join(list(grants.values()), list(sps.values()), users or people, ("permissions csv",))


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
