"""``collector report``: the inventory and its conclusions as JSON, CSV or a standalone page.

Reads only. The HTML goes through the same autoescaping templates as the UI.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from shadowmap.agent.errors import UsageError
from shadowmap.server import chart, conclusions, exports, inventory, views
from shadowmap.server.db import open_database, session_factory

logger = logging.getLogger(__name__)

# One CSV row per edge of the graph and per conclusion (docs/collector.md, "report").
CSV_COLUMNS = (
    "record",
    "vendor",
    "vendor_name",
    "sanctioned",
    "trust",
    "coverage",
    "who",
    "where",
    "what",
    "scopes",
    "status",
    "severity",
    "since",
)


def report_document(session: Session) -> dict[str, Any]:
    built = inventory.build(session)
    found = conclusions.derive(built)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "summary": views.summary(built, found),
        "conclusions": [views.conclusion_row(c) for c in found],
        "vendors": [views.vendor_doc(v) for v in built.vendors.values()],
        "people": views.person_rows(built),
        "grants": [views.grant_row(g) for g in built.grants],
    }


def render_report(database_url: str, fmt: str) -> str:
    engine = open_database(database_url)
    try:
        with session_factory(engine)() as session:
            document = report_document(session)
            svg = chart.render_svg(inventory.build(session)) if fmt == "html" else ""
    finally:
        engine.dispose()
    if fmt == "json":
        return json.dumps(document, indent=2, sort_keys=False) + "\n"
    if fmt == "csv":
        return _csv(document)
    if fmt == "html":
        return _html(document, svg)
    raise UsageError(f"unknown format {fmt!r}", hint="use json, csv or html")


def _csv(document: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = []
    for vendor in document["vendors"]:
        rows += _vendor_csv_rows(vendor)
    for found in document["conclusions"]:
        rows.append(
            {
                "record": "conclusion",
                "vendor": found["vendor"],
                "what": found["title"],
                "severity": found["severity"],
                "status": found["kind"],
                "who": found["detail"],
            }
        )
    return exports.to_csv(rows, CSV_COLUMNS)


# The vendor document's lists of findings, and the record name each row gets.
FINDING_LISTS = (
    ("device_list", "app_on_device"),
    ("mcp_server_list", "mcp_server"),
    ("key_list", "key"),
)


def _vendor_csv_rows(vendor: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "vendor": vendor["key"],
        "vendor_name": vendor["name"],
        "sanctioned": vendor["sanctioned"],
        "trust": vendor["trust"],
        "coverage": vendor["coverage"],
    }
    rows = [
        {
            **base,
            "record": "grant",
            "who": g["user"],
            "where": g["provider"],
            "what": g["app"],
            "scopes": " ".join(g["scopes"]),
            "status": g["status"],
            "since": g["granted_at"],
        }
        for g in vendor["grant_list"]
    ]
    for key, record in FINDING_LISTS:
        rows += [
            {
                **base,
                "record": record,
                "where": f"{r['place_kind']} {r['place']}",
                "what": r["title"],
                "severity": r["severity"],
                "since": r["key_first_committed_at"] or r["first_seen"],
            }
            for r in vendor[key]
        ]
    return rows


def _html(document: dict[str, Any], svg: str) -> str:
    from shadowmap.server.templating import page_templates

    template = page_templates().env.get_template("report.html")
    return template.render(doc=document, chart_svg=svg)
