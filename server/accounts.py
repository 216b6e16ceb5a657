"""Local accounts (Argon2id password hashes), accounts of OIDC subjects, and API tokens
(SHA-256 hashes, shown once).

Never stores or logs a password or a token; a wrong username costs the same hash check
as a wrong password, so timing does not tell which accounts exist. An OIDC account is
found by issuer and subject only (OpenID Connect Core 1.0, 5.7), never by a name or an
email, so no IdP can sign in as a local account.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shadowmap.server.enrollment import hash_token
from shadowmap.server.errors import Conflict, NotFound, RequestInvalid
from shadowmap.server.settings import is_placeholder
from shadowmap.server.tables import ApiToken, Role, UserAccount, utcnow

logger = logging.getLogger(__name__)

# OWASP ASVS 2.1.1: at least 12 characters; 2.1.2: at most 128 allowed.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
# API tokens carry 32 random bytes and a prefix that says what they are (for scanners).
TOKEN_PREFIX = "smt_"
TOKEN_BYTES = 32
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=5)
# The username column's width; an OIDC account's name is its email, or a cut email and a
# suffix from its subject when that is taken or too long ("#" is not allowed locally).
USERNAME_MAX = 64
SUBJECT_SUFFIX_HEX = 6


@dataclass(frozen=True)
class Principal:
    """Who is asking, and as what."""

    name: str
    role: Role
    kind: str  # admin_token, api_token or account

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_read(self) -> bool:
        return self.role in (Role.ADMIN, Role.VIEWER)


def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's second recommended option (Argon2id).
    return PasswordHasher()


def create_account(session: Session, username: str, password: str, role: Role) -> UserAccount:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise RequestInvalid(
            "a username is 3 to 64 of a-z, 0-9 and . _ @ -, starting with a letter or digit"
        )
    _check_password(password)
    account = UserAccount(
        id=str(uuid.uuid4()),
        username=name,
        password_hash=_hasher().hash(password),
        role=role.value,
        disabled=False,
        created_at=utcnow(),
    )
    session.add(account)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"the username {name} is taken; pick another") from None
    logger.info("made account %s with role %s", name, role.value)
    return account


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise RequestInvalid(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    if is_placeholder(password):
        raise RequestInvalid("that password is a well-known placeholder or pattern; choose another")


def authenticate(session: Session, username: str, password: str) -> UserAccount | None:
    account = session.scalar(
        select(UserAccount).where(UserAccount.username == username.strip().lower())
    )
    hasher = _hasher()
    try:
        if account is None or account.password_hash is None:
            hasher.verify(_dummy_hash(), password)  # same work as a real check
            return None
        hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if account.disabled:
        return None
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    account.last_login_at = utcnow()
    session.commit()
    return account


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


def oidc_account(
    session: Session, issuer: str, subject: str, email: str, role: Role
) -> UserAccount | None:
    """The account of this IdP subject, made at its first sign-in and given the role its
    groups map to now; None when an admin disabled it."""
    account = _find_oidc_account(session, issuer, subject)
    if account is None:
        account = _new_oidc_account(session, issuer, subject, email)
    if account.disabled:
        return None
    account.email = email
    account.role = role.value
    account.last_login_at = utcnow()
    session.commit()
    return account


def _find_oidc_account(session: Session, issuer: str, subject: str) -> UserAccount | None:
    return session.scalar(
        select(UserAccount).where(
            UserAccount.oidc_issuer == issuer, UserAccount.oidc_subject == subject
        )
    )


def _new_oidc_account(session: Session, issuer: str, subject: str, email: str) -> UserAccount:
    account = UserAccount(
        id=str(uuid.uuid4()),
        username=_oidc_username(session, issuer, subject, email),
        password_hash=None,
        role=Role.VIEWER.value,
        disabled=False,
        created_at=utcnow(),
        oidc_issuer=issuer,
        oidc_subject=subject,
        email=email,
    )
    session.add(account)
    try:
        session.commit()
    except IntegrityError:
        # The same person's first sign-in in another tab or replica won the race.
        session.rollback()
        found = _find_oidc_account(session, issuer, subject)
        if found is None:
            raise
        return found
    logger.info("made account %s for a new OIDC subject", account.username)
    return account


def _oidc_username(session: Session, issuer: str, subject: str, email: str) -> str:
    """The email when no account has that name; never renamed later, so an old session
    cannot come to name someone else."""
    name = email.lower()
    taken = session.scalar(select(UserAccount.id).where(UserAccount.username == name))
    if len(name) <= USERNAME_MAX and taken is None:
        return name
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:SUBJECT_SUFFIX_HEX]
    return f"{name[: USERNAME_MAX - SUBJECT_SUFFIX_HEX - 1]}#{digest}"


def account_principal(session: Session, username: str) -> Principal | None:
    """The principal of a signed-in account, as it is now (disabled or re-roled counts)."""
    account = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if account is None or account.disabled:
        return None
    return Principal(account.username, Role(account.role), "account")


def set_account(
    session: Session, account_id: str, *, role: Role | None = None, disabled: bool | None = None
) -> UserAccount:
    account = session.get(UserAccount, account_id)
    if account is None:
        raise NotFound("no such account")
    if role is not None:
        account.role = role.value
    if disabled is not None:
        account.disabled = disabled
    session.commit()
    return account


def list_accounts(session: Session) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).order_by(UserAccount.username)))


def create_token(session: Session, name: str, role: Role, created_by: str) -> tuple[str, ApiToken]:
    """A new token, returned once in clear; only its hash is kept."""
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise RequestInvalid("a token's name is 1 to 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        id=str(uuid.uuid4()),
        name=label,
        token_hash=hash_token(token),
        role=role.value,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(row)
    session.commit()
    logger.info("made API token %s (%s) for %s", row.id, role.value, created_by)
    return token, row


def token_principal(session: Session, token: str) -> Principal | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    # Cut to the width of the columns that record who acted (updated_by, created_by).
    return Principal(f"token:{row.name}"[:USERNAME_MAX], Role(row.role), "api_token")


def revoke_token(session: Session, token_id: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("no such API token")
    row.revoked_at = row.revoked_at or utcnow()
    session.commit()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
