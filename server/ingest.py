"""Ingest: one report from one device, stored in one transaction, idempotent on report id.

For the sources a report covers it is their full state, so what it no longer holds is resolved.
Only each finding's (already redacted) JSON is kept per finding, nothing else from the report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shadowmap.agent.models import SCHEMA_VERSION, Finding, Report
from shadowmap.server import people
from shadowmap.server.errors import MachineMismatch, ReportInvalid, describe_problems
from shadowmap.server.schemas import ReportAccepted
from shadowmap.server.tables import Device, FindingRecord, FindingStatus, ReportRecord, utcnow

logger = logging.getLogger(__name__)

# Column widths in tables.py: a longer id is refused, never truncated.
MAX_REPORT_ID_LENGTH = 128
MAX_FINDING_ID_LENGTH = 128
MAX_CREATED_AT_LENGTH = 64
MAX_HOSTNAME_LENGTH = 255
MAX_OS_USER_LENGTH = 256
# A JSON \u0000 escape that is not itself an escaped backslash's text (an even run of
# backslashes before it).
NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


@dataclass(frozen=True)
class ReportUpload:
    """A report body as received, and the validated report it holds."""

    raw: str
    report: Report


def without_nul(raw: bytes) -> bytes:
    """JSON with each escaped NUL character made U+FFFD: PostgreSQL cannot store a NUL in
    text, and a device whose config holds one must not lose its whole report."""
    return NUL_ESCAPE.sub(rb"\1\\ufffd", raw)


def parse_report(raw: bytes) -> ReportUpload:
    """The schema v1 report in ``raw``; ReportInvalid (422) says what is wrong with it."""
    raw = without_nul(raw)
    try:
        report = Report.model_validate_json(raw)
    except ValidationError as exc:
        problems = describe_problems(exc.errors())
        raise ReportInvalid(f"not a valid schema v1 report: {problems}") from None
    if report.schema_version != SCHEMA_VERSION:
        raise ReportInvalid(
            f"schema_version {report.schema_version} is not supported; this collector takes "
            f"{SCHEMA_VERSION}: upgrade the collector or send schema {SCHEMA_VERSION}"
        )
    _check_lengths(report)
    return ReportUpload(raw=raw.decode("utf-8"), report=report)


def ingest(
    session: Session,
    device: Device,
    upload: ReportUpload,
    rules: tuple[people.JoinRule, ...] = people.DEFAULT_RULES,
) -> ReportAccepted:
    """Store the report, upsert its findings, resolve what is gone; a retry changes nothing."""
    report = upload.report
    if report.host.machine_id != device.machine_id:
        raise MachineMismatch()
    # Serialises one device's reports across replicas (FOR UPDATE; SQLite locks anyway).
    session.refresh(device, with_for_update=True)
    now = utcnow()
    if not report.sources and not report.findings:
        # A heartbeat: the device is alive and resolves nothing. Counted on the device, not
        # kept as a report row, so a fleet's heartbeats do not grow the reports table.
        _touch_device(device, report, now)
        device.last_heartbeat_at = now
        device.heartbeats = (device.heartbeats or 0) + 1
        people.link_devices(session, rules, {device.id})
        session.commit()
        return ReportAccepted(report_id=report.report_id, status="heartbeat")
    if _already_stored(session, device.id, report.report_id):
        logger.info("report from device %s was stored before; duplicate", device.id)
        return ReportAccepted(report_id=report.report_id, status="duplicate")

    session.add(_report_record(device, upload, now))
    existing = _findings_of(session, device.id)
    seen = _upsert_findings(session, device.id, existing, report.findings, now)
    resolved = _resolve_gone(existing.values(), seen, report, now)
    _touch_device(device, report, now)
    people.link_devices(session, rules, {device.id})  # the OS user may have changed
    session.commit()

    logger.info(
        "stored report from device %s: %d findings, %d resolved", device.id, len(seen), resolved
    )
    return ReportAccepted(report_id=report.report_id, status="stored")


def _check_lengths(report: Report) -> None:
    if len(report.report_id) > MAX_REPORT_ID_LENGTH or not report.report_id:
        raise ReportInvalid(f"report_id must be 1 to {MAX_REPORT_ID_LENGTH} characters")
    limits = [
        ("created_at", report.created_at, MAX_CREATED_AT_LENGTH),
        ("host.hostname", report.host.hostname, MAX_HOSTNAME_LENGTH),
        ("users.0", report.users[0] if report.users else "", MAX_OS_USER_LENGTH),
    ]
    for where, value, limit in limits:
        if len(value) > limit:
            raise ReportInvalid(f"{where} is longer than {limit} characters")
    for index, finding in enumerate(report.findings):
        if not finding.id or len(finding.id) > MAX_FINDING_ID_LENGTH:
            raise ReportInvalid(
                f"findings.{index}.id must be 1 to {MAX_FINDING_ID_LENGTH} characters"
            )


def _already_stored(session: Session, device_id: str, report_id: str) -> bool:
    query = select(ReportRecord.id).where(
        ReportRecord.device_id == device_id, ReportRecord.report_id == report_id
    )
    return session.scalar(query) is not None


def _report_record(device: Device, upload: ReportUpload, now: datetime) -> ReportRecord:
    report = upload.report
    return ReportRecord(
        device_id=device.id,
        report_id=report.report_id,
        created_at=report.created_at,
        received_at=now,
        finding_count=len(report.findings),
        body=upload.raw,
    )


def _findings_of(session: Session, device_id: str) -> dict[str, FindingRecord]:
    rows = session.scalars(select(FindingRecord).where(FindingRecord.device_id == device_id))
    return {row.finding_id: row for row in rows}


def _upsert_findings(
    session: Session,
    device_id: str,
    existing: dict[str, FindingRecord],
    findings: list[Finding],
    now: datetime,
) -> set[str]:
    """Open (or reopen) each finding with last_seen now; first_seen stays as it was."""
    latest = {finding.id: finding for finding in findings}  # a repeated id: the last one wins
    for finding_id, finding in latest.items():
        row = existing.get(finding_id)
        if row is None:
            row = FindingRecord(device_id=device_id, finding_id=finding_id, first_seen=now)
            session.add(row)
        elif row.status == FindingStatus.RESOLVED.value:
            logger.info("finding %s of device %s is back; reopened", finding_id, device_id)
        row.status = FindingStatus.OPEN.value
        row.source = finding.source.value
        row.user = finding.user
        row.severity = finding.severity.value
        row.data = finding.model_dump(mode="json")
        row.value_hash = finding.value_hash
        row.last_seen = now
        row.resolved_at = None
    return set(latest)


def _resolve_gone(
    rows: Iterable[FindingRecord], seen: set[str], report: Report, now: datetime
) -> int:
    """Resolve open findings of covered sources and users that this report no longer holds."""
    sources = {source.value for source in report.sources}
    users = set(report.users)
    resolved = 0
    for row in rows:
        covered = row.source in sources and (row.user is None or row.user in users)
        if row.status == FindingStatus.OPEN.value and covered and row.finding_id not in seen:
            row.status = FindingStatus.RESOLVED.value
            row.resolved_at = now
            resolved += 1
    return resolved


def _touch_device(device: Device, report: Report, now: datetime) -> None:
    device.last_seen = now
    device.hostname = report.host.hostname
    if report.users:
        device.os_user = report.users[0]
