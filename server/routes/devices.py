"""``GET /api/v1/devices``: every enrolled device with its finding counts (admin token)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from shadowmap.server import queries
from shadowmap.server.deps import AdminOnly, DbSession
from shadowmap.server.schemas import DeviceOut, ErrorBody

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1",
    tags=["devices"],
    dependencies=[AdminOnly],
    responses={401: {"model": ErrorBody}},
)


@router.get("/devices")
def list_devices(session: DbSession) -> list[DeviceOut]:
    return queries.list_devices(session)
