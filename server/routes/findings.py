"""``GET /api/v1/findings``: findings by status and device (admin token)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from shadowmap.server import queries
from shadowmap.server.deps import AdminOnly, DbSession
from shadowmap.server.schemas import ErrorBody, FindingOut, StatusFilter

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1",
    tags=["findings"],
    dependencies=[AdminOnly],
    responses={401: {"model": ErrorBody}},
)


@router.get("/findings")
def list_findings(
    session: DbSession, status: StatusFilter = StatusFilter.OPEN, device_id: str | None = None
) -> list[FindingOut]:
    return queries.list_findings(session, status, device_id)
