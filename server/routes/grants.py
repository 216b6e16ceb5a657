"""``/api/v1/grants``: every IdP grant with its vendor match, scopes and state."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from shadowmap.server import page_data
from shadowmap.server.deps import DbSession, ReaderOnly
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1", tags=["grants"], dependencies=[ReaderOnly], responses=READ_REFUSALS
)


@router.get("/grants", responses=csv_response())
def list_grants(
    session: DbSession,
    q: str = "",
    provider: str = "",
    status: str = "",
    vendor: str = "",
    format: ListFormat = ListFormat.JSON,
) -> Any:
    rows = page_data.filtered(
        page_data.rows_of(session, "grants"), q, provider=provider, status=status, vendor=vendor
    )
    return listed(rows, format, "grants")
