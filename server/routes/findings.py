"""``GET /api/v1/findings``: findings by status and device (admin token)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from shadowmap.server import queries
from shadowmap.server.deps import DbSession, ReaderOnly
from shadowmap.server.routes.listing import ListFormat, csv_response, listed
from shadowmap.server.schemas import ErrorBody, FindingOut, StatusFilter

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1",
    tags=["findings"],
    dependencies=[ReaderOnly],
    responses={401: {"model": ErrorBody}},
)


@router.get("/findings", response_model=list[FindingOut], responses=csv_response())
def list_findings(
    session: DbSession,
    status: StatusFilter = StatusFilter.OPEN,
    device_id: str | None = None,
    format: ListFormat = ListFormat.JSON,
) -> Any:
    found = queries.list_findings(session, status, device_id)
    if format is ListFormat.CSV:
        return listed([f.model_dump(mode="json") for f in found], format, "findings")
    return found
