"""``POST /api/v1/reports``: a device's report; 201 stored, 200 when it is a retry."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response

from shadowmap.server import ingest
from shadowmap.server.deps import AppSettings, CurrentDevice, DbSession, ReportBody
from shadowmap.server.schemas import ErrorBody, ReportAccepted

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["reports"])

# docs/collector-api.md, "Reports": the refusals, for the OpenAPI document.
REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 413, 422)
}


@router.post(
    "/reports",
    status_code=201,
    responses={
        200: {"model": ReportAccepted, "description": "a duplicate, or a heartbeat"},
        **REFUSALS,
    },
)
def post_report(
    device: CurrentDevice,
    upload: ReportBody,
    session: DbSession,
    response: Response,
    settings: AppSettings,
) -> ReportAccepted:
    accepted = ingest.ingest(session, device, upload, settings.join_rules)
    if accepted.status in ("duplicate", "heartbeat"):
        response.status_code = 200
    return accepted
