"""The IdP connector axis: the abstract connector, its frozen results and its own error.

A connector reads grants from an export file or a live API and returns values; it never
writes to the database (grant_store.py does) and never logs a credential.

    ShadowmapError (shadowmap.agent.errors)
    └── IdpError               a live IdP call failed or was refused      exit 3
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
    def key(self) -> str:
        everyone = "app" if self.consent is ConsentType.APPLICATION else "*"
        return "\x1f".join([self.user_id or everyone, self.client_id, self.resource])


@dataclass(frozen=True)
class Skipped:
    """A record the connector could not use, and why (kept with the import's result)."""

    where: str
    reason: str


@dataclass(frozen=True)
class GrantBatch:
    """What one import or sweep read. ``complete_for`` lists the users whose grants it
    holds in full (a tokens.list answer), so their grants it lacks are revoked."""

    provider: Provider
    identities: tuple[Identity, ...] = ()
    apps: tuple[App, ...] = ()
    grants: tuple[Grant, ...] = ()
    complete_for: frozenset[str] = frozenset()
    skipped: tuple[Skipped, ...] = ()
    sources: tuple[str, ...] = field(default=())  # what was read: file kinds or endpoints


class Connector(ABC):
    """One identity provider: its export files, and its live API."""

    provider: Provider

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
