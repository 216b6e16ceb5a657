"""One scan of this machine: runs the detectors for the chosen sources, builds the report."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from shadowmap.agent import __version__, text_pass
from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors import all_detectors
from shadowmap.agent.detectors.interface import DetectorOutput
from shadowmap.agent.host import host_info
from shadowmap.agent.models import LIVE_SOURCES, Finding, Report, ScannerInfo, SourceId
from shadowmap.agent.policy import Policy
from shadowmap.agent.policy import apply as apply_policy
from shadowmap.agent.secret_engine import FILTERS, SecretEngine

logger = logging.getLogger(__name__)

# What `scan` covers unless told otherwise; scan-repo covers SourceId.REPO alone.
# Every source a machine scan covers (scan-repo covers SourceId.REPO alone).
MACHINE_SOURCES = frozenset(set(SourceId) - {SourceId.REPO})


def machine_sources(live: bool) -> frozenset[SourceId]:
    return MACHINE_SOURCES if live else MACHINE_SOURCES - LIVE_SOURCES


def run_detectors(ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
    out = DetectorOutput()
    text_pass.plan(ctx, sources)  # the detectors that read home files share one read of each
    for detector in all_detectors():
        wanted = sources & frozenset(detector.sources)
        if not wanted:
            continue
        logger.info("running detector %s for %s", detector.id.value, sorted(wanted))
        try:
            out.extend(detector.run(ctx, wanted))
        except Exception as exc:  # a bug in one detector must not cost the others' findings
            logger.debug("detector %s failed", detector.id.value, exc_info=True)
            for source in sorted(wanted, key=lambda s: s.value):
                out.warn(source, f"detector {detector.id.value} failed ({type(exc).__name__})")
            out.failed |= wanted
    return out


def _unique(findings: list[Finding]) -> list[Finding]:
    by_id: dict[str, Finding] = {}
    for finding in findings:
        by_id.setdefault(finding.id, finding)
    return sorted(by_id.values(), key=lambda f: (-f.severity.rank, f.kind.value, f.title))


def build_report(
    contexts: list[ScanContext],
    sources: frozenset[SourceId],
    output: DetectorOutput,
    policy: Policy | None = None,
) -> Report:
    ctx = contexts[0]
    report = Report(
        report_id=str(uuid.uuid4()),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scanner=ScannerInfo(version=__version__, signatures_version=ctx.signatures.version),
        host=host_info(),
        users=list(dict.fromkeys(c.user for c in contexts)),
        sources=sorted(sources, key=lambda s: s.value),
        fingerprint_scope=ctx.key.scope,
        policy=policy.digest if policy else None,
        findings=apply_policy(policy, _unique(output.findings)),
        warnings=output.warnings,
        filters_used=sorted(FILTERS),
    )
    return ensure_no_raw_values(report, SecretEngine(ctx.signatures))


def ensure_no_raw_values(report: Report, engine: SecretEngine) -> Report:
    """The last guard: a credential-shaped value anywhere in a report is scrubbed."""
    raw = report.model_dump_json()
    if not any(True for _ in engine.find(raw)):
        return report
    logger.warning("a credential-shaped value reached the report; it was redacted")
    return Report.model_validate(json.loads(engine.scrub(raw)))


def scan_machine(
    contexts: list[ScanContext], sources: frozenset[SourceId], policy: Policy | None = None
) -> Report:
    """One report over every home given; live sources are read with the first context."""
    output = DetectorOutput()
    for ctx in contexts:
        output.extend(run_detectors(ctx, sources if ctx.live else sources - LIVE_SOURCES))
    return build_report(contexts, sources - output.failed, output, policy)
