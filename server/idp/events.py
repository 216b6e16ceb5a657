"""Grant events from audit and sign-in logs (Entra, Okta), laid onto the grants a listing
gave: when each was granted, last used and revoked.

The listing is the current state and wins: an event never revokes a grant the listing
still shows. Also the one place a sweep reads an optional endpoint that may answer 403.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import TypeVar

from shadowmap.server.idp.interface import (
    APP_ONLY,
    EVERYONE,
    ConsentType,
    Grant,
    GrantStatus,
    IdpDenied,
    Provider,
    Skipped,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class EventKind(str, Enum):
    GRANT = "grant"  # a consent, or a grant added
    REVOKE = "revoke"  # a grant or app role assignment removed
    USE = "use"  # a successful sign-in or token issued to the client for the user


# At one instant a removal sorts before an addition: Entra writes an amended consent as
# a Remove and an Add of the grant in the same millisecond.
ORDER = {EventKind.REVOKE: 0, EventKind.GRANT: 1, EventKind.USE: 2}


@dataclass(frozen=True)
class GrantEvent:
    kind: EventKind
    at: datetime
    holder: str  # a user id, EVERYONE (admin consent) or APP_ONLY, as Grant.holder
    client_id: str  # Entra appId, Okta client id
    consent: ConsentType = ConsentType.USER
    scopes: tuple[str, ...] = ()
    creates: bool = False  # a consent: it stands for a grant the listing may lack
    app_name: str | None = None


def apply_events(
    provider: Provider,
    grants: dict[str, Grant],
    events: Iterable[GrantEvent],
    covers: Callable[[str], bool],
) -> dict[str, Grant]:
    """The grants with the events' dates; consents the listing lacks become grants too,
    revoked when the listing covers their holder (``covers``, as GrantBatch.covers)."""
    live = set(grants)
    out = dict(grants)
    pairs: dict[tuple[str, str], list[str]] = {}
    for key, grant in grants.items():
        pairs.setdefault((grant.holder, grant.client_id), []).append(key)

    for event in sorted(events, key=lambda e: (e.at, ORDER[e.kind])):
        keys = pairs.get((event.holder, event.client_id), [])
        if event.kind is EventKind.USE:
            _used(out, keys + _admin_keys(pairs, event), event.at)
        elif event.kind is EventKind.GRANT:
            if not keys and event.creates:
                made = _from_consent(provider, event)
                pairs[(event.holder, event.client_id)] = keys = [made.key]
                out[made.key] = made
            _granted(out, keys, live, event)
        else:
            _revoked(out, keys, live, event.at)

    for key in set(out) - live:
        grant = out[key]
        if grant.status is GrantStatus.ACTIVE and covers(grant.holder):
            out[key] = replace(grant, status=GrantStatus.REVOKED)  # consented, since removed
    return out


def _admin_keys(pairs: dict[tuple[str, str], list[str]], event: GrantEvent) -> list[str]:
    # A user signing in to an app an admin consented for everyone uses that grant.
    if event.holder in (EVERYONE, APP_ONLY):
        return []
    return pairs.get((EVERYONE, event.client_id), [])


def _used(out: dict[str, Grant], keys: list[str], at: datetime) -> None:
    for key in keys:
        grant = out[key]
        if grant.last_used_at is None or grant.last_used_at < at:
            out[key] = replace(grant, last_used_at=at)


def _granted(out: dict[str, Grant], keys: list[str], live: set[str], event: GrantEvent) -> None:
    for key in keys:
        grant = replace(out[key], granted_at=event.at, scopes=out[key].scopes or event.scopes)
        if key not in live:
            grant = replace(grant, status=GrantStatus.ACTIVE, revoked_at=None)
        out[key] = grant


def _revoked(out: dict[str, Grant], keys: list[str], live: set[str], at: datetime) -> None:
    for key in keys:
        grant = out[key]
        if key not in live or grant.status is GrantStatus.REVOKED:
            out[key] = replace(grant, status=GrantStatus.REVOKED, revoked_at=at)


def _from_consent(provider: Provider, event: GrantEvent) -> Grant:
    user = None if event.holder in (EVERYONE, APP_ONLY) else event.holder
    return Grant(provider, event.client_id, user, event.scopes, event.consent)


class Tally:
    """Unusable log records counted by where and why, so a log of thousands of events
    gives a few Skipped lines, never one per event."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, where: str, reason: str) -> None:
        self.counts[(where, reason)] += 1

    def skipped(self) -> list[Skipped]:
        return [
            Skipped(where, f"{count} record(s): {reason}" if count > 1 else reason)
            for (where, reason), count in sorted(self.counts.items())
        ]


def optional_read(
    what: str, read: Callable[[], list[T]], needs: str
) -> tuple[list[T], Skipped | None]:
    """Every item ``read`` returns, or none and a Skipped when the IdP answers 403: audit
    and sign-in logs need a licence or a permission a grants sweep can do without."""
    try:
        return read(), None
    except IdpDenied as refused:
        if refused.status != 403:
            raise
        logger.info("skipped %s: the IdP answered 403", what)
        code = f" {refused.detail}" if refused.detail else ""
        return [], Skipped(what, f"not readable: 403{code}; needs {needs}")
