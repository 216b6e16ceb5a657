"""What the list endpoints share: ?format=json|csv and the q search (for the OpenAPI too)."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from starlette.responses import Response

from shadowmap.server import exports
from shadowmap.server.schemas import ErrorBody

logger = logging.getLogger(__name__)

# docs/collector-api.md: the refusals every read endpoint documents.
READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
}


class ListFormat(str, Enum):
    JSON = "json"
    CSV = "csv"


def listed(rows: list[dict[str, Any]], fmt: ListFormat, name: str) -> Any:
    """The rows as JSON (the response body) or a CSV download."""
    if fmt is ListFormat.CSV:
        return exports.download(rows, "csv", name)
    return rows


def csv_response() -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"text/csv": {}}, "description": "JSON rows, or CSV with ?format=csv"}}


__all__ = ["READ_REFUSALS", "ListFormat", "Response", "csv_response", "listed"]
