"""The JSON report, exactly the schema in docs/report-schema.json."""

from __future__ import annotations

from shadowmap.agent.models import Report


def render(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"
