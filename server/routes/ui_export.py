"""``/export/<list>.<csv|json>``: every list as a download, with the page's filters."""

from __future__ import annotations

import logging
from enum import Enum

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shadowmap.server import exports, page_data
from shadowmap.server.deps import DbSession, PageUser

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

# Query parameters that are not column filters.
NOT_FILTERS = frozenset({"q"})


class ExportFormat(str, Enum):
    CSV = "csv"
    JSON = "json"


@router.get("/export/{name}.{fmt}")
def export(
    request: Request, session: DbSession, me: PageUser, name: str, fmt: ExportFormat
) -> Response:
    rows = page_data.rows_of(session, name)
    filters = {k: v for k, v in request.query_params.items() if k not in NOT_FILTERS and v != "all"}
    shown = page_data.filtered(rows, request.query_params.get("q"), **filters)
    return exports.download(shown, fmt.value, name)
