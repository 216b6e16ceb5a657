"""Read-only queries behind the API's GETs and the overview page: devices and findings.

Never writes; both the API and the pages use these, so they always agree.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from shadowmap.agent.models import Finding, Severity
from shadowmap.server.schemas import DeviceOut, FindingCounts, FindingOut, StatusFilter
from shadowmap.server.tables import Device, FindingRecord

logger = logging.getLogger(__name__)


def list_devices(session: Session) -> list[DeviceOut]:
    counts = _finding_counts(session)
    devices = session.scalars(select(Device).order_by(Device.hostname, Device.id))
    return [
        DeviceOut(
            id=device.id,
            machine_id=device.machine_id,
            hostname=device.hostname,
            os=device.os,
            os_user=device.os_user,
            email=device.email,
            enrolled_at=device.enrolled_at,
            last_seen=device.last_seen,
            last_heartbeat_at=device.last_heartbeat_at,
            heartbeats=device.heartbeats or 0,
            finding_counts=counts.get(device.id, FindingCounts()),
        )
        for device in devices
    ]


def list_findings(
    session: Session, status: StatusFilter = StatusFilter.OPEN, device_id: str | None = None
) -> list[FindingOut]:
    query = (
        select(FindingRecord, Device.hostname)
        .join(Device, Device.id == FindingRecord.device_id)
        .order_by(_most_severe_first(), FindingRecord.last_seen.desc(), FindingRecord.finding_id)
    )
    if status is not StatusFilter.ALL:
        query = query.where(FindingRecord.status == status.value)
    if device_id is not None:
        query = query.where(FindingRecord.device_id == device_id)
    return [_finding_out(row, hostname) for row, hostname in session.execute(query)]


def _most_severe_first() -> ColumnElement[int]:
    ranks = {severity.value: -severity.rank for severity in Severity}
    return case(ranks, value=FindingRecord.severity, else_=0)


def _finding_counts(session: Session) -> dict[str, FindingCounts]:
    query = select(FindingRecord.device_id, FindingRecord.status, func.count()).group_by(
        FindingRecord.device_id, FindingRecord.status
    )
    counts: dict[str, dict[str, int]] = {}
    for device_id, status, count in session.execute(query):
        counts.setdefault(device_id, {})[status] = count
    return {device_id: FindingCounts(**by_status) for device_id, by_status in counts.items()}


def _finding_out(row: FindingRecord, hostname: str) -> FindingOut:
    finding = Finding.model_validate(row.data)
    return FindingOut(
        id=row.finding_id,
        device_id=row.device_id,
        hostname=hostname,
        detector=finding.detector,
        kind=finding.kind,
        source=finding.source,
        title=finding.title,
        severity=finding.severity,
        vendor=finding.vendor,
        user=finding.user,
        location=finding.location,
        evidence=finding.evidence,
        secret=finding.secret,
        value_hash=finding.value_hash,
        definition_hash=finding.definition_hash,
        status=row.status,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        resolved_at=row.resolved_at,
    )
