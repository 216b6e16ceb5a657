"""Who may read: the admin token for the API, and the signed session cookie for the pages.

The cookie is signed with a key derived from the admin token, so every replica checks it
without shared state, and rotating the token ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from itsdangerous import BadSignature, URLSafeTimedSerializer

from shadowmap.server.settings import Settings

logger = logging.getLogger(__name__)

# docs/collector-api.md, "Pages": the signed session cookie that POST /login sets.
SESSION_COOKIE = "shadowmap_session"
# A working day; the admin signs in again after it.
SESSION_MAX_AGE_S = 12 * 60 * 60
# Domain separation: this key signs sessions and nothing else.
SESSION_KEY_LABEL = b"shadowmap ui session v1"
# itsdangerous's salt: a signature made for another purpose never passes as a session.
SESSION_SALT = "shadowmap.ui-session"


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


def new_session(settings: Settings) -> str:
    return _serializer(settings).dumps({"admin": True})


def session_valid(settings: Settings, cookie: str | None) -> bool:
    if not cookie:
        return False
    try:
        payload = _serializer(settings).loads(cookie, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("admin") is True


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    key = hmac.new(settings.admin_token.encode("utf-8"), SESSION_KEY_LABEL, hashlib.sha256)
    return URLSafeTimedSerializer(
        key.hexdigest(),
        salt=SESSION_SALT,
        signer_kwargs={"digest_method": hashlib.sha256, "key_derivation": "hmac"},
    )
