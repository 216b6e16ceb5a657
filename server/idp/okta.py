"""Okta grants and apps: user grants (one object per scope, grouped by user and client),
the apps list (SSO apps are how an organisation provisions a vendor), the users list,
and grant, revoke and use dates from the System Log (okta_log.py).

Pages follow the Link header's rel="next" (research/idp-anchors.md section 3).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowmap.server.idp import okta_log
from shadowmap.server.idp.common import (
    PageTrail,
    domains,
    lower_email,
    parse_time,
    sniff,
    text_or_none,
)
from shadowmap.server.idp.events import Tally, apply_events
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
    covered,
)

logger = logging.getLogger(__name__)

# Okta user statuses that cannot sign in (developer.okta.com, User lifecycle).
SUSPENDED_STATUSES = frozenset({"SUSPENDED", "LOCKED_OUT", "PASSWORD_EXPIRED"})
GONE_STATUSES = frozenset({"DEPROVISIONED"})
USERS_PATH = "/api/v1/users"
GRANTS_PATH = "/api/v1/users/{user}/grants"
APPS_PATH = "/api/v1/apps"
PAGE_SIZE = "200"


@dataclass
class Export:
    """What one import read, by kind: grants, apps, users, System Log events."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    apps: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class OktaConnector(Connector):
    provider = Provider.OKTA

    def read_files(self, paths: Sequence[Path]) -> GrantBatch:
        export = Export()
        for path in paths:
            kind, data = sniff(path)
            what, items = _classify(kind, data, path)
            getattr(export, what).extend(items)
        return combine(export, ("okta export",))

    def sweep(self, api: ApiClient) -> GrantBatch:
        export = Export(users=list(_pages(api, USERS_PATH, {"limit": PAGE_SIZE})))
        for user in export.users:
            path = GRANTS_PATH.format(user=user.get("id"))
            export.grants.extend(_pages(api, path, {"limit": PAGE_SIZE, "expand": "scope"}))
        export.apps = list(_pages(api, APPS_PATH, {"limit": PAGE_SIZE}))
        sources = [USERS_PATH, "grants per user", APPS_PATH]
        logs, refused = okta_log.read_logs(api, datetime.now(UTC), self.lookback_days)
        if refused:
            export.skipped.append(refused)
        else:
            export.logs, sources = logs, [*sources, okta_log.LOGS_PATH]
        return combine(export, tuple(sources))


def _pages(api: ApiClient, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    url: str | None = path
    query: dict[str, str] | None = params
    trail = PageTrail()
    while url:
        trail.visit(url, query)
        page = api.get_json(url, query)
        if isinstance(page.body, list):
            yield from (item for item in page.body if isinstance(item, dict))
        url, query = page.next_link, None  # the next link carries the cursor and limit


def _classify(kind: str, data: Any, path: Path) -> tuple[str, list[dict[str, Any]]]:
    if kind == "json" and isinstance(data, dict):
        # A map of user id to that user's grants, as a per-user sweep writes it.
        items = [g for grants in data.values() if isinstance(grants, list) for g in grants]
        return "grants", items
    first = data[0] if kind == "json" and data and isinstance(data[0], dict) else None
    if first is None:
        raise IdpFileInvalid(f"{path} is not an Okta grants, apps, users or System Log export")
    if "eventType" in first:
        return "logs", [item for item in data if isinstance(item, dict)]
    if "scopeId" in first:
        return "grants", data
    if "signOnMode" in first:
        return "apps", data
    if "profile" in first:
        return "users", data
    raise IdpFileInvalid(f"{path} is not an Okta grants, apps, users or System Log export")


def combine(export: Export, sources: tuple[str, ...]) -> GrantBatch:
    """Grants grouped by user and client, then the System Log's dates laid onto them."""
    identities = {i.external_id: i for i in map(_identity, export.users)}
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for grant in export.grants:
        if grant.get("userId") and grant.get("clientId"):
            grouped.setdefault((str(grant["userId"]), str(grant["clientId"])), []).append(grant)
    listed = {g.key: g for g in (_grant(u, c, parts) for (u, c), parts in grouped.items())}
    for (user, _client), parts in grouped.items():
        title = ((parts[0].get("_links") or {}).get("user") or {}).get("title")
        identities.setdefault(user, Identity(Provider.OKTA, user, display_name=title))
    known_apps = {a.client_id: a for a in map(_app, export.apps)}
    for (_user, client), parts in grouped.items():
        title = ((parts[0].get("_links") or {}).get("app") or {}).get("title")
        known_apps.setdefault(client, App(Provider.OKTA, client, str(title or client)))
    complete = frozenset(user for user, _ in grouped) | frozenset(identities)
    tally = Tally()
    events = okta_log.log_events(export.logs, tally)
    made = apply_events(Provider.OKTA, listed, events, lambda holder: covered(complete, holder))
    names = {e.client_id: e.app_name for e in events if e.app_name}
    for client in {g.client_id for g in made.values()} - set(known_apps):
        # A grant only the log knows: its app as the log names it.
        known_apps[client] = App(Provider.OKTA, client, names.get(client) or client)
    return GrantBatch(
        provider=Provider.OKTA,
        identities=tuple(identities.values()),
        apps=tuple(known_apps.values()),
        grants=tuple(made.values()),
        complete_for=complete,
        skipped=tuple(export.skipped + tally.skipped()),
        sources=sources,
    )


def _grant(user: str, client: str, parts: list[dict[str, Any]]) -> Grant:
    active = [p for p in parts if p.get("status") == "ACTIVE"]
    scopes = tuple(dict.fromkeys(_scope_name(p) for p in (active or parts)))
    created = [t for t in (parse_time(p.get("created")) for p in parts) if t]
    updated = [t for t in (parse_time(p.get("lastUpdated")) for p in parts) if t]
    admin = any(p.get("source") == "ADMIN" for p in parts)
    return Grant(
        provider=Provider.OKTA,
        client_id=client,
        user_id=user,
        scopes=scopes,
        consent=ConsentType.ADMIN if admin else ConsentType.USER,
        status=GrantStatus.ACTIVE if active else GrantStatus.REVOKED,
        resource=str(parts[0].get("issuer") or ""),
        granted_at=min(created) if created else None,
        revoked_at=None if active or not updated else max(updated),
    )


def _scope_name(part: dict[str, Any]) -> str:
    embedded = (part.get("_embedded") or {}).get("scope") or {}
    title = ((part.get("_links") or {}).get("scope") or {}).get("title")
    return str(embedded.get("name") or title or part.get("scopeId"))


def _app(app: dict[str, Any]) -> App:
    settings = app.get("settings") or {}
    oauth = settings.get("oauthClient") or {}
    sign_on = settings.get("signOn") or {}
    client = ((app.get("credentials") or {}).get("oauthClient") or {}).get("client_id")
    return App(
        provider=Provider.OKTA,
        client_id=str(client or app.get("id")),
        display_name=str(app.get("label") or app.get("name") or app.get("id")),
        domains=domains(
            oauth.get("client_uri"), *(oauth.get("redirect_uris") or []), sign_on.get("ssoAcsUrl")
        ),
        sso_status=text_or_none(app.get("status")),
        sso_note=text_or_none((settings.get("notes") or {}).get("admin")),
    )


def _identity(user: dict[str, Any]) -> Identity:
    profile = user.get("profile") or {}
    status = str(user.get("status") or "")
    names = " ".join(filter(None, [profile.get("firstName"), profile.get("lastName")]))
    return Identity(
        provider=Provider.OKTA,
        external_id=str(user.get("id")),
        email=lower_email(profile.get("email")) or lower_email(profile.get("login")),
        display_name=names or None,
        status=(
            IdentityStatus.DELETED
            if status in GONE_STATUSES
            else IdentityStatus.SUSPENDED
            if status in SUSPENDED_STATUSES
            else IdentityStatus.ACTIVE
        ),
    )
