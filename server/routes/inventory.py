"""``/api/v1/inventory``, ``/conclusions``, ``/keys``, ``/chart.svg``: the whole graph,
what follows from it, every key by fingerprint, and the access chart."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from shadowmap.server import chart, inventory, page_data, report_output
from shadowmap.server.deps import DbSession, ReaderOnly
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1", tags=["inventory"], dependencies=[ReaderOnly], responses=READ_REFUSALS
)


@router.get("/inventory")
def get_inventory(session: DbSession) -> dict[str, Any]:
    return report_output.report_document(session)


@router.get("/conclusions", responses=csv_response())
def list_conclusions(
    session: DbSession,
    q: str = "",
    kind: str = "",
    severity: str = "",
    format: ListFormat = ListFormat.JSON,
) -> Any:
    rows = page_data.filtered(
        page_data.rows_of(session, "conclusions"), q, kind=kind, severity=severity
    )
    return listed(rows, format, "conclusions")


@router.get("/keys", responses=csv_response())
def list_keys(session: DbSession, q: str = "", format: ListFormat = ListFormat.JSON) -> Any:
    return listed(page_data.filtered(page_data.rows_of(session, "keys"), q), format, "keys")


@router.get(
    "/chart.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}
)
def get_chart(session: DbSession) -> Response:
    return Response(str(chart.render_svg(inventory.build(session))), media_type="image/svg+xml")
