"""Lists as CSV or JSON downloads: the same rows the pages show.

A cell that a spreadsheet would run as a formula is prefixed with a quote (OWASP, CSV
injection); nested values are written as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import Response

logger = logging.getLogger(__name__)

# OWASP "CSV Injection": the characters that start a formula in common spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = json.dumps(value, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    rows = list(rows)
    names = list(columns or (rows[0].keys() if rows else ["empty"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in names])
    return out.getvalue()


def to_json(rows: Iterable[dict[str, Any]]) -> str:
    return json.dumps(list(rows), indent=2, default=str) + "\n"


def download(rows: list[dict[str, Any]], fmt: str, name: str) -> Response:
    """The rows as a CSV or JSON attachment named after the list."""
    if fmt == "csv":
        body, media = to_csv(rows), "text/csv; charset=utf-8"
    else:
        body, media = to_json(rows), "application/json"
    disposition = f'attachment; filename="shadowmap-{name}.{"csv" if fmt == "csv" else "json"}"'
    return Response(body, media_type=media, headers={"content-disposition": disposition})
