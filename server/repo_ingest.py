"""Repository reports from ``shadowmap scan-repo --format json`` (CI), stored per repository.

A full-history scan is the repository's whole state, so its findings that are gone are
resolved; a tree-only scan adds and updates only. Keeps the redacted finding JSON only.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from pathlib import PurePosixPath

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shadowmap.agent.models import Report, SourceId
from shadowmap.server.errors import ReportInvalid
from shadowmap.server.ingest import ReportUpload
from shadowmap.server.tables import FindingStatus, RepoFinding, Repository, utcnow

logger = logging.getLogger(__name__)

# Column widths in tables.py.
MAX_NAME = 255


class RepoAccepted(BaseModel):
    repository_id: str
    name: str
    findings: int
    resolved: int


def ingest_repo_report(session: Session, upload: ReportUpload) -> RepoAccepted:
    report = upload.report
    info = report.repository
    if info is None or SourceId.REPO not in report.sources:
        raise ReportInvalid(
            'not a scan-repo report: it needs sources ["repo"] and a repository block'
        )

    now = utcnow()
    repo = _repository(session, report, now)
    existing = {
        r.finding_id: r
        for r in session.scalars(select(RepoFinding).where(RepoFinding.repository_id == repo.id))
    }
    for finding in report.findings:
        row = existing.get(finding.id)
        if row is None:
            row = RepoFinding(repository_id=repo.id, finding_id=finding.id, first_seen=now)
            session.add(row)
        row.status = FindingStatus.OPEN.value
        row.severity = finding.severity.value
        row.value_hash = finding.value_hash
        row.data = finding.model_dump(mode="json")
        row.last_seen = now
        row.resolved_at = None
    resolved = _resolve_gone(existing.values(), {f.id for f in report.findings}, info.history, now)
    session.commit()

    logger.info("stored repository report for %s: %d findings", repo.id, len(report.findings))
    return RepoAccepted(
        repository_id=repo.id, name=repo.name, findings=len(report.findings), resolved=resolved
    )


def _repository(session: Session, report: Report, now: datetime) -> Repository:
    info = report.repository
    assert info is not None
    where = info.remote or f"{report.host.hostname}:{info.path}"
    key = hashlib.sha256(where.encode("utf-8")).hexdigest()
    repo = session.scalar(select(Repository).where(Repository.key_hash == key))
    if repo is None:
        repo = Repository(id=str(uuid.uuid4()), key_hash=key, first_seen=now)
        session.add(repo)
    repo.name = _name(info.remote or info.path)[:MAX_NAME]
    repo.remote = info.remote
    repo.path = info.path
    repo.head = (info.head or "")[:64] or None
    repo.branch = (info.branch or "")[:MAX_NAME] or None
    repo.last_seen = now
    session.flush()
    return repo


def _name(where: str) -> str:
    tail = PurePosixPath(where.rstrip("/").replace(":", "/")).name
    return tail.removesuffix(".git") or where


def _resolve_gone(rows: object, seen: set[str], full: bool, now: datetime) -> int:
    if not full:
        return 0
    resolved = 0
    for row in rows:  # type: ignore[attr-defined]
        if row.status == FindingStatus.OPEN.value and row.finding_id not in seen:
            row.status = FindingStatus.RESOLVED.value
            row.resolved_at = now
            resolved += 1
    return resolved
