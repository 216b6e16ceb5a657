"""How much an OAuth scope reaches: a level and an area per scope, for Google, Microsoft
Graph and Okta, and what a grant's scopes add up to.

Levels follow research/idp-anchors.md section 5.1 (DFIR-Companion's grading, Hawk's lists,
Microsoft's low-risk consent set); an unknown scope is medium, as DFIR-Companion grades it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)

GOOGLE_PREFIX = "https://www.googleapis.com/auth/"


class Level(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


# (pattern on the short scope name, level, area). First match wins; names are compared
# without case. Google names are the part after GOOGLE_PREFIX, or the host for mail.
RULES: tuple[tuple[str, Level, str], ...] = (
    (
        r"approleassignment\.readwrite\.all|rolemanagement\.readwrite\.directory",
        Level.CRITICAL,
        "directory",
    ),
    (
        r"directory\.readwrite\.all|admin\.directory\..*|okta\.(users|groups|apps)\.manage",
        Level.HIGH,
        "directory",
    ),
    (r"mail\.google\.com/?|gmail\.(readonly|modify|send|compose|insert)", Level.HIGH, "mail"),
    (r"mail\.(read|readwrite|send)(\.shared)?|mailboxsettings\.readwrite", Level.HIGH, "mail"),
    (r"gmail\.metadata", Level.MEDIUM, "mail"),
    (
        r"drive(\.readonly)?|documents|spreadsheets|files\.(read|readwrite)(\.all)?|sites\..*",
        Level.HIGH,
        "files",
    ),
    (r"drive\.metadata(\.readonly)?", Level.MEDIUM, "files"),
    (r"drive\.(file|appdata)", Level.LOW, "files"),
    (r"calendar(\.readonly)?|calendars\.(read|readwrite)(\.shared)?", Level.HIGH, "calendar"),
    (r"calendar\.events(\.readonly)?", Level.MEDIUM, "calendar"),
    (r"contacts(\.readonly)?|m8/feeds|contacts\.(read|readwrite)", Level.HIGH, "contacts"),
    (r"chat\..*|onlinemeetingtranscript\..*|meetings\.space\.readonly", Level.HIGH, "chat"),
    (r"onlinemeetings\.(read|readwrite)", Level.MEDIUM, "meetings"),
    (r"notes\.(read|readwrite)(\.all)?", Level.HIGH, "notes"),
    (r"cloud-platform", Level.HIGH, "cloud"),
    (r"offline_access", Level.MEDIUM, "persistence"),
    (
        r"openid|email|profile|userinfo\.(email|profile)|user\.read|accounts/oauthlogin",
        Level.LOW,
        "identity",
    ),
)
# Microsoft's own low-risk consent set and the OIDC sign-in scopes (CIPP #3719).
SIGN_IN_AREAS = frozenset({"identity"})


@dataclass(frozen=True)
class ScopeRisk:
    scope: str
    level: Level
    area: str


@dataclass(frozen=True)
class GrantReach:
    """What a grant's scopes add up to."""

    level: Level
    areas: tuple[str, ...]
    persistent: bool  # offline_access: a refresh token outlives the session
    sign_in_only: bool
    risky: tuple[str, ...]  # the scopes at medium or above


def short_name(scope: str) -> str:
    if scope.startswith(GOOGLE_PREFIX):
        return scope[len(GOOGLE_PREFIX) :]
    if scope.startswith("https://"):
        return scope.removeprefix("https://")
    return scope


def classify(scope: str) -> ScopeRisk:
    name = (
        short_name(scope).lower().rstrip("/")
        if scope != "https://mail.google.com/"
        else "mail.google.com"
    )
    for pattern, level, area in RULES:
        if re.fullmatch(pattern, name):
            return ScopeRisk(scope, level, area)
    return ScopeRisk(scope, Level.MEDIUM, "unknown")


def reach(scopes: list[str] | tuple[str, ...]) -> GrantReach:
    risks = [classify(scope) for scope in scopes]
    if not risks:
        return GrantReach(Level.LOW, (), False, True, ())
    level = max((r.level for r in risks), key=lambda lv: lv.rank)
    areas = tuple(dict.fromkeys(r.area for r in risks if r.area not in SIGN_IN_AREAS))
    return GrantReach(
        level=level,
        areas=areas,
        persistent=any(r.area == "persistence" for r in risks),
        sign_in_only=not areas,
        risky=tuple(r.scope for r in risks if r.level.rank >= Level.MEDIUM.rank),
    )
