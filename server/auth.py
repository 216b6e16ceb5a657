"""Who is asking: the admin token or an API token for the API, the signed session cookie
for the pages, the CSRF token that every page form carries, and the short-lived cookie that
binds an OIDC sign-in to the browser that started it.

The cookies are signed with keys derived from the admin token, so every replica checks them
without shared state, and rotating the token ends every session. The session names the
account and its CSRF token; the role is read from the database on each request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

from shadowmap.server.settings import Settings
from shadowmap.server.tables import Role

logger = logging.getLogger(__name__)

# docs/collector-api.md, "Pages": the signed session cookie that POST /login sets.
SESSION_COOKIE = "shadowmap_session"
# A working day; the user signs in again after it.
SESSION_MAX_AGE_S = 12 * 60 * 60
# Domain separation: this key signs sessions and nothing else.
SESSION_KEY_LABEL = b"shadowmap ui session v1"
# itsdangerous's salt: a signature made for another purpose never passes as a session.
SESSION_SALT = "shadowmap.ui-session"
# The account name a session made with the admin token carries (no account has it:
# usernames cannot start with "(").
BOOTSTRAP_NAME = "(admin token)"
CSRF_BYTES = 24
# The OIDC sign-in in flight: its state, nonce and PKCE verifier (routes/ui_oidc.py).
PENDING_COOKIE = "shadowmap_oidc"
PENDING_KEY_LABEL = b"shadowmap oidc sign-in v1"
PENDING_SALT = "shadowmap.oidc-pending"
# Ten minutes to sign in at the IdP; then the person starts again.
PENDING_MAX_AGE_S = 10 * 60
# RFC 7636 4.1: a verifier of 43 to 128 characters; 32 random bytes make 43. State and
# nonce get as many (OpenID Connect Core 1.0, 3.1.2.1 and 15.5.2: unguessable values).
PENDING_BYTES = 32


@dataclass(frozen=True)
class PendingSignIn:
    """An OIDC sign-in this browser started; the values never leave it but to the IdP."""

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    verifier: str = field(repr=False)


@dataclass(frozen=True)
class SessionData:
    name: str
    csrf: str
    bootstrap: bool  # signed in with the admin token, not an account


def admin_token_matches(settings: Settings, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), settings.admin_token.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def new_session(settings: Settings, name: str = BOOTSTRAP_NAME) -> str:
    payload = {"admin": name == BOOTSTRAP_NAME, "u": name, "c": secrets.token_urlsafe(CSRF_BYTES)}
    return _serializer(settings).dumps(payload)


def read_session(settings: Settings, cookie: str | None) -> SessionData | None:
    if not cookie:
        return None
    try:
        payload = _serializer(settings).loads(cookie, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
        return None
    name = payload.get("u")
    if not isinstance(name, str):
        return None
    return SessionData(name, payload["c"], name == BOOTSTRAP_NAME and payload.get("admin") is True)


def session_valid(settings: Settings, cookie: str | None) -> bool:
    return read_session(settings, cookie) is not None


def csrf_matches(session: SessionData, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), session.csrf.encode("utf-8"))


def bootstrap_role() -> Role:
    return Role.ADMIN


def new_pending() -> PendingSignIn:
    return PendingSignIn(*(secrets.token_urlsafe(PENDING_BYTES) for _ in range(3)))


def sign_pending(settings: Settings, pending: PendingSignIn) -> str:
    payload = {"s": pending.state, "n": pending.nonce, "v": pending.verifier}
    return _serializer(settings, PENDING_KEY_LABEL, PENDING_SALT).dumps(payload)


def read_pending(settings: Settings, cookie: str | None) -> PendingSignIn | None:
    """The sign-in this cookie started, or None if it is missing, forged or too old."""
    if not cookie:
        return None
    serializer = _serializer(settings, PENDING_KEY_LABEL, PENDING_SALT)
    try:
        payload = serializer.loads(cookie, max_age=PENDING_MAX_AGE_S)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(payload, dict):
        return None
    values = [value for key in ("s", "n", "v") if isinstance(value := payload.get(key), str)]
    if len(values) != 3 or not all(values):
        return None
    return PendingSignIn(*values)


def _serializer(
    settings: Settings, label: bytes = SESSION_KEY_LABEL, salt: str = SESSION_SALT
) -> URLSafeTimedSerializer:
    key = hmac.new(settings.admin_token.encode("utf-8"), label, hashlib.sha256)
    return URLSafeTimedSerializer(
        key.hexdigest(),
        salt=salt,
        signer_kwargs={"digest_method": hashlib.sha256, "key_derivation": "hmac"},
    )
