"""Google Workspace grants: Directory API tokens.list, Reports API token events, GAM CSV.

tokens.list says who holds which client's token now; token events add when it was
granted, used and revoked (research/idp-anchors.md section 1). Keyed on clientId, never
on displayText.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from shadowmap.server.idp.common import (
    PageTrail,
    lower_email,
    parse_time,
    sniff,
    split_scopes,
    truthy,
)
from shadowmap.server.idp.interface import (
    ApiClient,
    App,
    Connector,
    ConsentType,
    Grant,
    GrantBatch,
    GrantStatus,
    Identity,
    IdentityStatus,
    IdpFileInvalid,
    Provider,
    Skipped,
)

logger = logging.getLogger(__name__)

# Google's own clients in tokens.list (GAM wiki Users-Tokens.md): never third-party AI.
FIRST_PARTY_CLIENTS = frozenset(
    {"77185425430.apps.googleusercontent.com", "1095133494869.apps.googleusercontent.com"}
)
# Directory and Reports API paths (developers.google.com/admin-sdk).
USERS_PATH = "/admin/directory/v1/users"
TOKENS_PATH = "/admin/directory/v1/users/{user}/tokens"
EVENTS_PATH = "/admin/reports/v1/activity/users/all/applications/token"
ADMIN_EVENTS_PATH = "/admin/reports/v1/activity/users/all/applications/admin"
# Domain-wide delegation is only in the Admin audit log, never in tokens.list
# (cisagov/ScubaGoggles #1066); parameter names per the Admin audit "Security settings"
# events (API_CLIENT_NAME, API_SCOPES), not yet checked against a live answer.
DELEGATION_EVENTS = ("AUTHORIZE_API_CLIENT_ACCESS", "REMOVE_API_CLIENT_ACCESS")
# users.list allows up to 500 a page; Reports up to 1000.
USERS_PAGE = "500"
EVENTS_PAGE = "1000"
# GAM's print tokens columns (GAM source TOKENS_FIELDS_TITLES).
GAM_COLUMNS = frozenset({"clientId", "displayText", "scopes"})


@dataclass(frozen=True)
class Event:
    """One token event from the Reports API."""

    name: str  # authorize, revoke, activity
    at: datetime
    user_id: str
    email: str | None
    client_id: str
    app_name: str | None
    scopes: tuple[str, ...]
    native: bool


class GoogleConnector(Connector):
    provider = Provider.GOOGLE

    def read_files(self, paths: Sequence[Path]) -> GrantBatch:
        reader = _Reader()
        for path in paths:
            kind, data = sniff(path)
            if kind == "csv":
                reader.gam(data, str(path))
            elif isinstance(data, dict) and data.get("kind") == "admin#reports#activities":
                reader.events(data.get("items") or [])
            elif isinstance(data, dict) and data.get("kind") == "admin#directory#users":
                reader.users(data.get("users") or [])
            elif isinstance(data, dict | list):
                reader.token_lists(data, str(path))
            else:
                raise IdpFileInvalid(f"{path} is not a Google tokens, users or events export")
        return reader.batch()

    def sweep(self, api: ApiClient) -> GrantBatch:
        reader = _Reader()
        users = list(
            _pages(api, USERS_PATH, "users", {"customer": "my_customer", "maxResults": USERS_PAGE})
        )
        reader.users(users)
        for user in users:
            key = str(user.get("id") or user.get("primaryEmail") or "")
            if not key:
                continue
            page = api.get_json(TOKENS_PATH.format(user=key))
            body = page.body if isinstance(page.body, dict) else {}
            reader.token_list(body.get("items") or [], user.get("primaryEmail"), f"user {key}")
        reader.events(list(_pages(api, EVENTS_PATH, "items", {"maxResults": EVENTS_PAGE})))
        for name in DELEGATION_EVENTS:
            query = {"maxResults": EVENTS_PAGE, "eventName": name}
            reader.events(list(_pages(api, ADMIN_EVENTS_PATH, "items", query)))
        return reader.batch(sources=("users.list", "tokens.list", "reports token", "reports admin"))


def _pages(
    api: ApiClient, path: str, field: str, params: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Every item of a Google list, following nextPageToken."""
    query = dict(params)
    trail = PageTrail()
    while True:
        trail.visit(path, query)
        body = api.get_json(path, query).body
        if not isinstance(body, dict):
            return
        yield from (item for item in body.get(field) or [] if isinstance(item, dict))
        token = body.get("nextPageToken")
        if not token:
            return
        query = {**params, "pageToken": str(token)}


class _Reader:
    """Collects users, tokens and events from any mix of files, then merges them."""

    def __init__(self) -> None:
        self.identities: dict[str, Identity] = {}
        self.apps: dict[str, App] = {}
        self.grants: dict[str, Grant] = {}
        self.complete: set[str] = set()
        self.skipped: list[Skipped] = []
        self.event_list: list[Event] = []
        self.sources: list[str] = []
        self.token_keys: set[str] = set()
        self.delegations: list[tuple[datetime, str, str, tuple[str, ...]]] = []

    def users(self, users: Iterable[dict[str, Any]]) -> None:
        self.sources.append("users.list")
        for user in users:
            key = str(user.get("id") or "")
            email = lower_email(user.get("primaryEmail"))
            if not key and not email:
                continue
            status = (
                IdentityStatus.SUSPENDED if truthy(user.get("suspended")) else IdentityStatus.ACTIVE
            )
            name = (
                (user.get("name") or {}).get("fullName")
                if isinstance(user.get("name"), dict)
                else None
            )
            self._identity(Identity(Provider.GOOGLE, key or str(email), email, name, status))

    def token_lists(self, data: dict[str, Any] | list[Any], where: str) -> None:
        """A tokens.list answer, a list of them, or a map of user email to one."""
        if isinstance(data, dict) and data.get("kind") == "admin#directory#tokenList":
            self.token_list(data.get("items") or [], None, where)
        elif isinstance(data, dict):
            for email, answer in data.items():
                items = answer.get("items") if isinstance(answer, dict) else None
                if items is None:
                    raise IdpFileInvalid(f"{where}: {email!r} holds no tokens.list answer")
                self.token_list(items, email, where)
        else:
            for answer in data:
                self.token_list((answer or {}).get("items") or [], None, where)

    def token_list(self, items: list[Any], email: object, where: str) -> None:
        self.sources.append("tokens.list")
        owner = lower_email(email)
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("clientId"):
                self.skipped.append(Skipped(f"{where} item {index}", "no clientId"))
                continue
            user_id = str(item.get("userKey") or owner or "")
            self._token(item, user_id, owner)
        if owner or items:
            first = items[0] if items and isinstance(items[0], dict) else {}
            self.complete.add(str(first.get("userKey") or owner or ""))

    def gam(self, rows: list[dict[str, str]], where: str) -> None:
        if not GAM_COLUMNS <= set(rows[0]):
            raise IdpFileInvalid(
                f"{where} is not GAM `print tokens` output",
                hint="expected user,clientId,displayText,anonymous,nativeApp,userKey,scopes",
            )
        self.sources.append("gam print tokens")
        for index, row in enumerate(rows, start=2):
            owners = row.get("user") or row.get("users") or ""
            if not row.get("clientId") or not owners:
                self.skipped.append(Skipped(f"{where} line {index}", "no clientId or user"))
                continue
            item = {**row, "scopes": split_scopes(row.get("scopes"))}
            for owner in owners.split():
                user_id = row.get("userKey") if row.get("user") else owner
                self._token(item, str(user_id or owner), lower_email(owner))
                self.complete.add(str(user_id or owner))

    def events(self, items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            if (item.get("id") or {}).get("applicationName") == "admin":
                self.delegations.extend(_delegations(item))
                self.sources.append("reports admin")
            else:
                self.event_list.extend(_events(item))
                self.sources.append("reports token")

    def _token(self, item: dict[str, Any], user_id: str, email: str | None) -> None:
        client = str(item["clientId"])
        self._identity(Identity(Provider.GOOGLE, user_id, email))
        self._app(
            client,
            item.get("displayText"),
            truthy(item.get("nativeApp")),
            truthy(item.get("anonymous")),
        )
        grant = Grant(Provider.GOOGLE, client, user_id, split_scopes(item.get("scopes")))
        self.grants[grant.key] = grant
        self.token_keys.add(grant.key)

    def _identity(self, found: Identity) -> None:
        known = self.identities.get(found.external_id)
        if known is not None:
            found = replace(
                known,
                email=known.email or found.email,
                display_name=known.display_name or found.display_name,
                status=found.status if found.status is not IdentityStatus.UNKNOWN else known.status,
            )
        self.identities[found.external_id] = found

    def _app(self, client: str, name: object, native: bool, anonymous: bool) -> None:
        if client in self.apps and not name:
            return
        self.apps[client] = App(
            Provider.GOOGLE,
            client,
            str(name or client),
            publisher="Google" if client in FIRST_PARTY_CLIENTS else None,
            native=native,
            anonymous=anonymous,
            first_party=client in FIRST_PARTY_CLIENTS,
        )

    def batch(self, sources: tuple[str, ...] | None = None) -> GrantBatch:
        for event in sorted(self.event_list, key=lambda e: e.at):
            self._apply(event)
        self._end_missing_tokens()
        for at, name, client, scopes in sorted(self.delegations):
            self._delegate(at, name, client, scopes)
        return GrantBatch(
            provider=Provider.GOOGLE,
            identities=tuple(self.identities.values()),
            apps=tuple(self.apps.values()),
            grants=tuple(self.grants.values()),
            complete_for=frozenset(self.complete),
            skipped=tuple(self.skipped),
            sources=sources or tuple(dict.fromkeys(self.sources)),
        )

    def _delegate(self, at: datetime, name: str, client: str, scopes: tuple[str, ...]) -> None:
        """Domain-wide delegation: the client may act as any user, with these scopes."""
        self._app(client, None, False, False)
        key = Grant(Provider.GOOGLE, client, None, (), ConsentType.APPLICATION).key
        if name == "AUTHORIZE_API_CLIENT_ACCESS":
            self.grants[key] = Grant(
                Provider.GOOGLE, client, None, scopes, ConsentType.APPLICATION, granted_at=at
            )
        elif key in self.grants:
            self.grants[key] = replace(self.grants[key], status=GrantStatus.REVOKED, revoked_at=at)

    def _end_missing_tokens(self) -> None:
        """A grant that events know but a user's full tokens.list lacks is no longer live."""
        for key, grant in self.grants.items():
            gone = grant.user_id in self.complete and key not in self.token_keys
            if gone and grant.status is GrantStatus.ACTIVE:
                self.grants[key] = replace(grant, status=GrantStatus.REVOKED)

    def _apply(self, event: Event) -> None:
        """Events in time order: dates onto the grant; a later revoke ends it."""
        self._identity(Identity(Provider.GOOGLE, event.user_id, event.email))
        if event.client_id not in self.apps:
            self._app(event.client_id, event.app_name, event.native, False)
        key = Grant(Provider.GOOGLE, event.client_id, event.user_id, ()).key
        grant = self.grants.get(key)
        live = key in self.token_keys  # tokens.list shows it held now
        if grant is None:
            grant = Grant(Provider.GOOGLE, event.client_id, event.user_id, event.scopes)
        if event.name == "authorize":
            grant = replace(grant, granted_at=event.at, status=GrantStatus.ACTIVE, revoked_at=None)
            grant = replace(grant, scopes=grant.scopes or event.scopes)
        elif event.name == "activity":
            grant = replace(grant, last_used_at=event.at)
        elif event.name == "revoke" and not live:
            grant = replace(grant, status=GrantStatus.REVOKED, revoked_at=event.at)
        self.grants[key] = grant


def _events(item: dict[str, Any]) -> Iterator[Event]:
    at = parse_time((item.get("id") or {}).get("time"))
    actor = item.get("actor") or {}
    user_id = str(actor.get("profileId") or actor.get("email") or "")
    if at is None or not user_id:
        return
    for event in item.get("events") or []:
        params = _parameters(event.get("parameters") or [])
        client = params.get("client_id")
        if event.get("name") not in ("authorize", "revoke", "activity") or not client:
            continue
        yield Event(
            name=str(event["name"]),
            at=at,
            user_id=user_id,
            email=lower_email(actor.get("email")),
            client_id=str(client),
            app_name=str(params.get("app_name") or "") or None,
            scopes=split_scopes(params.get("scope") or []),
            native=str(params.get("client_type", "")).startswith("NATIVE"),
        )


def _delegations(item: dict[str, Any]) -> Iterator[tuple[datetime, str, str, tuple[str, ...]]]:
    at = parse_time((item.get("id") or {}).get("time"))
    for event in item.get("events") or []:
        params = _parameters(event.get("parameters") or [])
        client = params.get("API_CLIENT_NAME")
        if at is None or event.get("name") not in DELEGATION_EVENTS or not client:
            continue
        raw = params.get("API_SCOPES") or []
        scopes = split_scopes(raw if isinstance(raw, list) else str(raw).replace(",", " "))
        yield at, str(event["name"]), str(client), scopes


def _parameters(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for parameter in parameters:
        name = parameter.get("name")
        for field in ("value", "multiValue", "intValue", "boolValue"):
            if name and field in parameter:
                values[str(name)] = parameter[field]
    return values
