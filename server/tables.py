"""The collector's tables as a typed SQLAlchemy 2 ORM; migrations/versions/ creates them.

A finding row keeps only the agent's already-redacted finding JSON and never anything else
from a report; token columns hold SHA-256 hashes, never tokens.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
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
    __table_args__ = (Index("ix_findings_status", "status"),)

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
