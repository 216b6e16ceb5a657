"""The IdP connector axis: the abstract connector, its frozen results and its own error.

A connector reads grants from an export file or a live API and returns values; it never
writes to the database (grant_store.py does) and never logs a credential.

    ShadowmapError (shadowmap.agent.errors)
    └── IdpError               a live IdP call failed or was refused      exit 3
        ├── IdpDenied          the IdP answered 401 or 403: the token     exit 3
        │                      lacks a permission (a sweep skips optional
        │                      endpoints that answer 403 and goes on)
        └── IdpFileInvalid     an export file is not one this provider    exit 2
                               writes (or is not readable)
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from shadowmap.agent.errors import EXIT_USAGE, ShadowmapError

logger = logging.getLogger(__name__)

# Who holds a grant that no single user holds: the first part of Grant.key and the
# markers GrantBatch.complete_for uses for "every admin-consented grant" and "every
# app-only grant".
EVERYONE = "*"
APP_ONLY = "app"
# How far back a live sweep reads audit and sign-in logs. Entra keeps sign-ins and
# directoryAudits 30 days with P1/P2 ("Microsoft Entra data retention"), Okta its
# System Log 90 days; both figures are unverified here. 30 fits both.
DEFAULT_LOOKBACK_DAYS = 30


class Provider(str, Enum):
    GOOGLE = "google"
    ENTRA = "entra"
    OKTA = "okta"


class ConsentType(str, Enum):
    USER = "user"  # one person consented for themselves
    ADMIN = "admin"  # an administrator consented for every user (Entra AllPrincipals)
    APPLICATION = "application"  # app-only permissions: the app acts as itself, no user


class GrantStatus(str, Enum):
    ACTIVE = "active"
    REVOKED = "revoked"


class IdentityStatus(str, Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # the account exists but cannot sign in
    DELETED = "deleted"  # the IdP lists the account as gone
    UNKNOWN = "unknown"  # no user list was imported for it


class IdpError(ShadowmapError):
    """A live call to an IdP failed; the hint says what to check."""


class IdpDenied(IdpError):
    """The IdP refused a call (401 or 403); ``detail`` is its error code, if it sent one."""

    def __init__(
        self, message: str, hint: str | None = None, status: int = 403, detail: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.detail = detail


class IdpFileInvalid(IdpError):
    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Identity:
    """A person's account in one IdP."""

    provider: Provider
    external_id: str  # Google profile id, Entra object id, Okta user id (or the email)
    email: str | None = None
    display_name: str | None = None
    status: IdentityStatus = IdentityStatus.UNKNOWN


@dataclass(frozen=True)
class App:
    """The OAuth client a grant goes to, with what the IdP says about who publishes it."""

    provider: Provider
    client_id: str  # Google clientId, Entra appId, Okta client_id
    display_name: str
    publisher: str | None = None
    verified_publisher: str | None = None  # set only when the IdP verified the publisher
    domains: tuple[str, ...] = ()  # of the homepage and redirect URLs
    native: bool = False
    anonymous: bool = False  # Google: not registered with Google
    first_party: bool = False  # the IdP's own vendor publishes it
    sso_status: str | None = None  # Okta: ACTIVE or INACTIVE when it is an SSO app
    sso_note: str | None = None  # Okta: the admin note on the app


@dataclass(frozen=True)
class Grant:
    """Who granted which client which scopes: one per (user, client, resource)."""

    provider: Provider
    client_id: str
    user_id: str | None  # None when an admin consented for everyone
    scopes: tuple[str, ...]
    consent: ConsentType = ConsentType.USER
    status: GrantStatus = GrantStatus.ACTIVE
    resource: str = ""  # Entra: the resource's appId (Microsoft Graph, ...)
    granted_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def holder(self) -> str:
        """The user id, or EVERYONE for admin consent, or APP_ONLY for app-only access."""
        everyone = APP_ONLY if self.consent is ConsentType.APPLICATION else EVERYONE
        return self.user_id or everyone

    @property
    def key(self) -> str:
        return "\x1f".join([self.holder, self.client_id, self.resource])


@dataclass(frozen=True)
class Skipped:
    """A record the connector could not use, and why (kept with the import's result)."""

    where: str
    reason: str


@dataclass(frozen=True)
class GrantBatch:
    """What one import or sweep read. ``complete_for`` lists the holders whose grants it
    holds in full (a tokens.list answer), so their grants it lacks are revoked: user ids,
    EVERYONE for every grant that is not app-only (a tenant's whole grants collection),
    APP_ONLY for every app-only grant (its app role assignments)."""

    provider: Provider
    identities: tuple[Identity, ...] = ()
    apps: tuple[App, ...] = ()
    grants: tuple[Grant, ...] = ()
    complete_for: frozenset[str] = frozenset()
    skipped: tuple[Skipped, ...] = ()
    sources: tuple[str, ...] = field(default=())  # what was read: file kinds or endpoints

    def covers(self, holder: str) -> bool:
        """Whether this batch is the full state of the grants of this holder."""
        return covered(self.complete_for, holder)


def covered(complete_for: frozenset[str], holder: str) -> bool:
    """Whether a listing complete for these holders holds every grant of ``holder``."""
    if holder == APP_ONLY:
        return APP_ONLY in complete_for
    return EVERYONE in complete_for or holder in complete_for


class Connector(ABC):
    """One identity provider: its export files, and its live API. ``lookback_days``
    bounds how far back a sweep reads audit and sign-in logs."""

    provider: Provider

    def __init__(self, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> None:
        self.lookback_days = lookback_days

    @abstractmethod
    def read_files(self, paths: Sequence[Path]) -> GrantBatch:
        """Every export file given, combined; IdpFileInvalid for a file it cannot use."""

    @abstractmethod
    def sweep(self, api: ApiClient) -> GrantBatch:
        """Everything the live API holds, page by page; IdpError when it refuses."""


class ApiClient(ABC):
    """The HTTP side of a sweep, so connectors stay free of retries and credentials."""

    base_url: str

    @abstractmethod
    def get_json(self, url: str, params: dict[str, str] | None = None) -> Page:
        """One page: its JSON and the next page's URL, from a Link header if any."""


@dataclass(frozen=True)
class Page:
    body: object
    next_link: str | None = None  # from the Link header's rel="next"
