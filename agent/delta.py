"""What changed since the collector last heard: a digest of each source's findings.

A report then carries only the sources whose state differs from the last one sent (each
still in full), so a quiet laptop sends heartbeats, not the same findings every hour.
"""

from __future__ import annotations

import hashlib
import logging

from shadowmap.agent.models import Report

logger = logging.getLogger(__name__)


def source_digests(report: Report) -> dict[str, str]:
    """sha256 over the sorted JSON of each covered source's findings."""
    digests = {}
    for source in report.sources:
        parts = sorted(f.model_dump_json() for f in report.findings if f.source is source)
        digests[source.value] = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    return digests


def only_changed(report: Report, known: dict[str, str]) -> Report:
    """The report cut to the sources whose digest is not the known one (maybe none)."""
    digests = source_digests(report)
    changed = [s for s in report.sources if known.get(s.value) != digests[s.value]]
    if len(changed) == len(report.sources):
        return report
    logger.info("unchanged since last sent: %s", sorted(set(digests) - {s.value for s in changed}))
    keep = set(changed)
    return report.model_copy(
        update={
            "sources": changed,
            "findings": [f for f in report.findings if f.source in keep],
            "warnings": [w for w in report.warnings if w.source in keep],
        }
    )
