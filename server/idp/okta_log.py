"""Okta grant dates and use from the System Log (/api/v1/logs): consent grants and
revocations, and tokens issued to a client for a user.

Event types from the Okta event-types catalog (fctr-id/okta-mcp-server
okta-event-codes.csv; research/idp-anchors.md section 3). Which target carries the app
and which the user varies by event, so both are looked for leniently; an event that
names neither is counted as skipped. Reads only.
"""

from __future__ import annotations

import logging
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
from shadowmap.server.idp.interface import ApiClient, ConsentType, Skipped

logger = logging.getLogger(__name__)

LOGS_PATH = "/api/v1/logs"
# Consent to a client: on a custom authorization server (.as.), the org server, by an admin.
GRANTS = (
    "app.oauth2.as.consent.grant",
    "app.oauth2.consent.grant",
    "app.oauth2.admin.consent.grant",
)
# Consent revoked, with its .implicit.* and .user(.client) variants.
REVOKES = (
    "app.oauth2.as.consent.revoke",
    "app.oauth2.consent.revoke",
    "app.oauth2.admin.consent.revoke",
)
# Tokens issued (.access_token, .id_token, .refresh_token): proof of use.
USES = ("app.oauth2.as.token.grant", "app.oauth2.token.grant")
# Okta's filter accepts eq, sw and `or` (developer.okta.com System Log API, Expression
# filter). One bounded query (since and until): its pages end, unlike a polling query's.
FILTER = " or ".join(
    [f'eventType eq "{name}"' for name in GRANTS]
    + [f'eventType sw "{prefix}"' for prefix in (*REVOKES, *USES)]
)
PAGE_SIZE = "1000"  # the most a page holds (System Log API, `limit`)
# Target and actor types that stand for the OAuth client.
APP_TYPES = frozenset({"AppInstance", "PublicClientApp"})
# outcome.result values of an event that happened.
DONE = frozenset({"SUCCESS", "ALLOW"})
NEEDS = "okta.logs.read (an API token of an admin who may read the System Log)"


def read_logs(
    api: ApiClient, now: datetime, days: int
) -> tuple[list[dict[str, Any]], Skipped | None]:
    """Grant, revoke and token events of the last ``days`` days, page by page."""
    params = {
        "since": _iso(now - timedelta(days=days)),
        "until": _iso(now),
        "filter": FILTER,
        "limit": PAGE_SIZE,
        "sortOrder": "ASCENDING",
    }

    def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: str | None = LOGS_PATH
        query: dict[str, str] | None = params
        trail = PageTrail()
        while url:
            trail.visit(url, query)
            page = api.get_json(url, query)
            items = page.body if isinstance(page.body, list) else []
            found += (item for item in items if isinstance(item, dict))
            url, query = (page.next_link if items else None), None
        return found

    return optional_read(LOGS_PATH, read, NEEDS)


def log_events(items: Iterable[dict[str, Any]], tally: Tally) -> list[GrantEvent]:
    """The grant events among these log events; others are left out without a word."""
    found = []
    for item in items:
        kind = _kind(str(item.get("eventType") or ""))
        outcome = as_dict(item.get("outcome"))
        if kind is None or str(outcome.get("result", "SUCCESS")) not in DONE:
            continue
        at = parse_time(item.get("published"))
        user, (client, name) = _user(item), _client(item)
        if at is None or not user or not client:
            tally.add("system log", f"{item.get('eventType')}: no published time, user or app")
            continue
        admin = ".admin." in str(item.get("eventType"))
        consent = ConsentType.ADMIN if admin else ConsentType.USER
        scopes = _scopes(item) if kind is EventKind.GRANT else ()
        creates = kind is EventKind.GRANT
        found.append(GrantEvent(kind, at, user, client, consent, scopes, creates, name))
    return found


def _kind(event_type: str) -> EventKind | None:
    if event_type in GRANTS:
        return EventKind.GRANT
    if event_type.startswith(REVOKES):
        return EventKind.REVOKE
    if event_type.startswith(USES):
        return EventKind.USE
    return None


def _parties(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The targets, then the actor: a revoke's actor is the admin, its target the user."""
    yield from (t for t in as_list(item.get("target")) if isinstance(t, dict))
    if isinstance(item.get("actor"), dict):
        yield item["actor"]


def _user(item: dict[str, Any]) -> str | None:
    return next(
        (text_or_none(p.get("id")) for p in _parties(item) if p.get("type") == "User"), None
    )


def _client(item: dict[str, Any]) -> tuple[str | None, str | None]:
    for party in _parties(item):
        if str(party.get("type")) in APP_TYPES and text_or_none(party.get("id")):
            return str(party["id"]), text_or_none(party.get("displayName"))
    # The client object's id is the OAuth client's for OAuth requests (System Log API).
    return text_or_none(as_dict(item.get("client")).get("id")), None


def _scopes(item: dict[str, Any]) -> tuple[str, ...]:
    names = [
        p.get("alternateId") or p.get("displayName")
        for p in _parties(item)
        if p.get("type") == "Scope"
    ]
    granted = as_dict(as_dict(item.get("debugContext")).get("debugData")).get("grantedScopes")
    return split_scopes(
        " ".join(str(n) for n in names if n) + " " + str(granted or "").replace(",", " ")
    )


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
