"""A readable table of findings with a summary line, for people at a terminal."""

from __future__ import annotations

from collections import Counter

from shadowmap.agent.models import Finding, Report

COLUMNS = ("SEVERITY", "KIND", "WHAT", "WHERE")
MAX_CELL = 70


def _where(finding: Finding) -> str:
    loc = finding.location
    if loc is None:
        listed = finding.evidence.get("installed_at") or finding.evidence.get("executables") or []
        listed = listed or finding.evidence.get("config") or []
        return str(listed[0]) if listed else ""
    where = loc.path
    if loc.line:
        where += f":{loc.line}"
    if loc.commit:
        where += f" @{loc.commit[:10]}"
    return where


def _what(finding: Finding) -> str:
    if finding.secret is not None:
        return f"{finding.title} [{finding.secret.preview}]"
    return finding.title


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else "…" + text[-(MAX_CELL - 1) :]


def table(findings: list[Finding]) -> list[str]:
    rows = [(f.severity.value, f.kind.value, _clip(_what(f)), _clip(_where(f))) for f in findings]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(COLUMNS)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*COLUMNS).rstrip(), *(line.format(*r).rstrip() for r in rows)]


def summary(report: Report) -> str:
    kinds = Counter(f.kind.value for f in report.findings)
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "nothing found"
    return (
        f"{len(report.findings)} findings ({parts}) on {report.host.hostname} "
        f"for {', '.join(report.users)}; sources: {', '.join(s.value for s in report.sources)}; "
        f"{len(report.warnings)} warnings"
    )


def render(report: Report) -> str:
    lines = table(report.findings) if report.findings else []
    for warning in report.warnings:
        where = f"{warning.path}: " if warning.path else ""
        lines.append(f"warning: {where}{warning.message}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
