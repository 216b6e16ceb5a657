"""The collector's tables as a typed SQLAlchemy 2 ORM; migrations/versions/ creates them.

A finding row keeps only the agent's already-redacted finding JSON and never anything else
from a report; token columns hold SHA-256 hashes, never tokens; passwords are Argon2id
hashes; IdP grants keep scopes and dates, never an IdP credential.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

# The org identity table holds exactly one row, with this key.
ORG_IDENTITY_ROW = 1


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database; SQLite keeps no zone, so it is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the collector stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class FindingStatus(str, Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class Base(DeclarativeBase):
    pass


class OrgIdentity(Base):
    """This collector database's id and fingerprint key: made at first start, shared by all."""

    __tablename__ = "org_identity"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    collector_id: Mapped[str] = mapped_column(String(32))
    fingerprint_key: Mapped[str] = mapped_column(String(64))  # 32 random bytes, hex
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Device(Base):
    """One enrolled machine; re-enrolment replaces its token hash."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    machine_id: Mapped[str] = mapped_column(String(256), unique=True)
    hostname: Mapped[str] = mapped_column(String(255))
    os: Mapped[str] = mapped_column(String(16))
    os_user: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    agent_version: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    # A heartbeat (a report that covers no source) only moves these; it is not a report row.
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)


class ReportRecord(Base):
    """A stored report, keyed by its report id so that a retried post is a duplicate."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("device_id", "report_id", name="uq_reports_device_report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(64))  # as the agent wrote it
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finding_count: Mapped[int]
    body: Mapped[str] = mapped_column(Text)  # the report JSON as received


class FindingRecord(Base):
    """One finding of one device over time: open or resolved, with its redacted JSON."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_status", "status"),
        Index("ix_findings_value_hash", "value_hash"),
    )

    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    finding_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # a FindingStatus value
    source: Mapped[str] = mapped_column(String(32))
    user: Mapped[str | None] = mapped_column("user_name", Text)
    severity: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the finding as the agent sent it
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    value_hash: Mapped[str | None] = mapped_column(String(128))  # a secret's keyed HMAC


class Role(str, Enum):
    """Who may do what (docs/collector.md, "Roles")."""

    VIEWER = "viewer"  # reads every page and the API
    ADMIN = "admin"  # also manages accounts, tokens, vendors and imports
    UPLOADER = "uploader"  # API tokens only: posts repository reports, reads nothing


class UserAccount(Base):
    """An account for the pages: local (the password kept only as an Argon2id hash) or an
    OIDC subject's (no password; keyed by issuer and subject, the only stable identifier
    per OpenID Connect Core 1.0, 5.7)."""

    __tablename__ = "user_accounts"
    __table_args__ = (
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_user_accounts_oidc"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: OIDC only
    role: Mapped[str] = mapped_column(String(16))  # a Role value
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # OpenID Connect Core 1.0 2: sub is at most 255 ASCII characters, unique per issuer.
    oidc_issuer: Mapped[str | None] = mapped_column(String(512))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # as the IdP last said


class ApiToken(Base):
    """An API token for automation; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VendorSetting(Base):
    """What this organisation decided about one catalog vendor, and who decided it."""

    __tablename__ = "vendor_settings"

    vendor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sanctioned: Mapped[bool | None] = mapped_column(Boolean)  # None: as the IdP's SSO apps say
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    trust_override: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TrustPolicyRow(Base):
    """How this organisation weighs vendor trust (trust_policy.py); one row, or none for
    the defaults."""

    __tablename__ = "trust_policy"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # TRUST_POLICY_ROW
    weights: Mapped[dict[str, int]] = mapped_column(JSON)
    accepted_jurisdictions: Mapped[list[str]] = mapped_column(JSON)
    penalise_unknown: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


TRUST_POLICY_ROW = 1


class Person(Base):
    """A person, known by email: their IdP identities and their devices hang off it."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    display_name: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class PersonDevice(Base):
    """A join of a person to a device, with the rule that made it and its evidence."""

    __tablename__ = "person_devices"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IdpIdentity(Base):
    """A person's account in one IdP, with its state there."""

    __tablename__ = "idp_identities"
    __table_args__ = (UniqueConstraint("provider", "external_id", name="uq_idp_identities"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # an IdentityStatus value
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class IdpApp(Base):
    """An OAuth client or SSO app in one IdP, with what the IdP says of its publisher."""

    __tablename__ = "idp_apps"
    __table_args__ = (UniqueConstraint("provider", "client_id", name="uq_idp_apps"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    verified_publisher: Mapped[str | None] = mapped_column(Text)
    domains: Mapped[list[str]] = mapped_column(JSON)
    native: Mapped[bool] = mapped_column(Boolean)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    first_party: Mapped[bool] = mapped_column(Boolean)
    sso_status: Mapped[str | None] = mapped_column(String(16))
    sso_note: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class IdpGrant(Base):
    """One grant: a user (or, for admin consent, everyone) gave a client these scopes."""

    __tablename__ = "idp_grants"
    __table_args__ = (UniqueConstraint("provider", "key_hash", name="uq_idp_grants"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of user, client, resource
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("idp_identities.id", ondelete="CASCADE")
    )
    app_id: Mapped[int] = mapped_column(ForeignKey("idp_apps.id", ondelete="CASCADE"))
    resource: Mapped[str] = mapped_column(String(256))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    consent: Mapped[str] = mapped_column(String(16))  # a ConsentType value
    status: Mapped[str] = mapped_column(String(16))  # a GrantStatus value
    granted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class ImportRun(Base):
    """One grant import or live sweep: what it read, what it stored, what it skipped."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))  # file, live or upload
    sources: Mapped[list[str]] = mapped_column(JSON)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    skipped: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Repository(Base):
    """A repository that scan-repo reports came from, known by its remote or its path."""

    __tablename__ = "repositories"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    remote: Mapped[str | None] = mapped_column(Text)  # without credentials (scan-repo strips)
    path: Mapped[str] = mapped_column(Text)
    head: Mapped[str | None] = mapped_column(String(64))
    branch: Mapped[str | None] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())


class RepoFinding(Base):
    """One finding of one repository over time, with its redacted JSON."""

    __tablename__ = "repo_findings"
    __table_args__ = (Index("ix_repo_findings_value_hash", "value_hash"),)

    repository_id: Mapped[str] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    finding_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    value_hash: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
