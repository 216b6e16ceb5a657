"""The JSON bodies of the collector API (docs/collector-api.md), as pydantic models.

The report body itself is ``shadowmap.agent.models.Report``; these are the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shadowmap.agent.models import (
    DetectorId,
    FindingKind,
    Location,
    OSName,
    SecretEvidence,
    Severity,
    SourceId,
)

logger = logging.getLogger(__name__)


class EnrollRequest(BaseModel):
    # Newer agents may send more; what the collector does not know it ignores.
    model_config = ConfigDict(extra="ignore", frozen=True)

    enroll_secret: str = Field(max_length=1024)
    machine_id: str = Field(min_length=1, max_length=256)
    hostname: str = Field(min_length=1, max_length=255)
    os: OSName
    os_user: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320)
    agent_version: str | None = Field(default=None, max_length=64)


class EnrollResponse(BaseModel):
    device_id: str
    device_token: str
    fingerprint_key: str
    fingerprint_scope: str


class ReportAccepted(BaseModel):
    report_id: str
    status: Literal["stored", "duplicate", "heartbeat"]


class FindingCounts(BaseModel):
    open: int = 0
    resolved: int = 0


class DeviceOut(BaseModel):
    id: str
    machine_id: str
    hostname: str
    os: str
    os_user: str | None
    email: str | None
    enrolled_at: datetime
    last_seen: datetime
    last_heartbeat_at: datetime | None = None
    heartbeats: int = 0
    finding_counts: FindingCounts


class StatusFilter(str, Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"


class FindingOut(BaseModel):
    id: str
    device_id: str
    hostname: str
    detector: DetectorId
    kind: FindingKind
    source: SourceId
    title: str
    severity: Severity
    vendor: str | None
    user: str | None
    location: Location | None
    evidence: dict[str, Any]
    secret: SecretEvidence | None
    value_hash: str | None
    definition_hash: str | None
    status: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None


class ErrorBody(BaseModel):
    error: str
    detail: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
