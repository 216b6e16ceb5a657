"""``GET /api/v1/devices``: every enrolled device with its finding counts (admin token)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from shadowmap.server import page_data, queries
from shadowmap.server.deps import DbSession, ReaderOnly
from shadowmap.server.routes.listing import ListFormat, csv_response, listed
from shadowmap.server.schemas import DeviceOut, ErrorBody

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1",
    tags=["devices"],
    dependencies=[ReaderOnly],
    responses={401: {"model": ErrorBody}},
)


@router.get("/devices", response_model=list[DeviceOut], responses=csv_response())
def list_devices(session: DbSession, format: ListFormat = ListFormat.JSON) -> Any:
    if format is ListFormat.CSV:
        return listed(page_data.rows_of(session, "devices"), format, "devices")
    return queries.list_devices(session)
