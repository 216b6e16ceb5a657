"""The child process of `shadowmap agent run`: every job that needs the scanner's imports.

Lowers its own CPU and I/O priority and caps its CPU time before importing anything heavy;
reads one job (JSON) on stdin and writes one summary (JSON) on stdout. Spools each report
before it says so, so a daemon killed meanwhile loses nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from shadowmap.agent.config import AgentConfig, enroll_secret, load_config
from shadowmap.agent.errors import UsageError

logger = logging.getLogger(__name__)

# The lowest CPU priority (nice(2): 19) and the idle I/O class (ioprio_set(2),
# IOPRIO_CLASS_IDLE): a scan takes only what nothing else on the laptop wants.
NICENESS = 19
# Seconds between the soft and the hard CPU limit: SIGXCPU first, then SIGKILL (setrlimit(2)).
CPU_GRACE = 5


def lower_priority(cpu_seconds: int) -> None:
    """Nice 19, idle I/O, and an RLIMIT_CPU budget (where the OS has them)."""
    import psutil

    me = psutil.Process()
    try:
        if sys.platform == "win32":
            me.nice(psutil.IDLE_PRIORITY_CLASS)
            me.ionice(psutil.IOPRIO_VERYLOW)
        else:
            me.nice(NICENESS)
            if hasattr(psutil, "IOPRIO_CLASS_IDLE"):
                me.ionice(psutil.IOPRIO_CLASS_IDLE)
    except (psutil.Error, OSError) as exc:
        logger.info("scan priority not lowered: %s", type(exc).__name__)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + CPU_GRACE))
    except (ImportError, ValueError, OSError):
        logger.info("no CPU-time limit on this OS; the daemon's wall-clock timeout applies")


def _state_dir(config: AgentConfig) -> Path:
    from shadowmap.agent.state import default_state_dir

    return config.state_dir or default_state_dir()


def _enrolled(config: AgentConfig, state_dir: Path, force: bool = False) -> Any:
    from shadowmap.agent.client import CollectorClient
    from shadowmap.agent.context import home_owner
    from shadowmap.agent.enrollment import forget, load, save
    from shadowmap.agent.host import host_info

    client = CollectorClient(config.collector, config.ca_file)
    if force:
        forget(state_dir)
    enrollment = load(state_dir, client.url)
    if enrollment is None:
        owner = home_owner(config.home or Path.home())
        enrollment = client.enroll(enroll_secret(config), host_info(), owner, config.email)
        save(state_dir, enrollment)
        logger.info("enrolled with %s as device %s", client.url, enrollment.device_id)
    return enrollment


def _contexts(config: AgentConfig, state_dir: Path, key: Any) -> list[Any]:
    """The scan's contexts, on the pulled pack when one is installed and checks out."""
    from shadowmap.agent.runner import contexts_from
    from shadowmap.agent.signing import active_pack

    args = argparse.Namespace(
        home=config.home, root=config.root, os=None, no_live=not config.live,
        state_dir=state_dir, all_users=False,
    )  # fmt: skip
    contexts = contexts_from(args, key)
    pack = active_pack(state_dir, config.signature_public_key)
    return [replace(c, signatures=pack) for c in contexts] if pack else contexts


def _spool_changed(config: AgentConfig, state_dir: Path, report: Any, full: bool) -> Any:
    """Put the changed sources (every source when ``full``) in the spool; the report put."""
    from shadowmap.agent.delta import only_changed, source_digests
    from shadowmap.agent.models import ScanWarning
    from shadowmap.agent.spool import Spool

    spool = Spool(state_dir, config.spool_max_bytes)
    if not full:
        report = only_changed(report, spool.known_digests(report.users))
    if not report.sources:
        return None
    drops = spool.unreported_drops()
    if drops:
        note = ScanWarning(
            source=report.sources[0],
            message=f"the agent's spool was full: {drops} older reports were dropped unsent",
        )
        report = report.model_copy(update={"warnings": [*report.warnings, note]})
    body = report.model_dump_json().encode("utf-8")
    digests = source_digests(report)
    sources = [s.value for s in report.sources]
    spool.put(report.report_id, body, sources, report.users, digests, drops_reported=drops)
    return report


def scan_job(config: AgentConfig, sources: list[str] | None, full: bool) -> dict[str, Any]:
    from dataclasses import asdict

    from shadowmap.agent.models import LIVE_SOURCES, SourceId
    from shadowmap.agent.notices import notices_for, rules
    from shadowmap.agent.policy import load_policy
    from shadowmap.agent.scan import machine_sources, scan_machine
    from shadowmap.agent.watch_plan import watch_plan

    state_dir = _state_dir(config)
    enrollment = _enrolled(config, state_dir)
    policy = load_policy(config.policy)
    contexts = _contexts(config, state_dir, enrollment.key())
    chosen = frozenset(SourceId(s) for s in sources) if sources else machine_sources(config.live)
    report = scan_machine(contexts, chosen if config.live else chosen - LIVE_SOURCES, policy)
    sent = _spool_changed(config, state_dir, report, full)
    return {
        "report_id": sent.report_id if sent else None,
        "sources": [s.value for s in sent.sources] if sent else [],
        "scanned": [s.value for s in report.sources],
        "findings": len(report.findings),
        "notices": [asdict(n) for n in notices_for(report, policy, contexts[0].root)],
        "rules": asdict(rules(policy)),
        "watch": [{"pattern": t.pattern, "source": t.source.value} for t in watch_plan(contexts)],
        "homes": [str(c.home) for c in contexts],
        "heartbeat": _heartbeat_template(report),
    }


def _heartbeat_template(report: Any) -> dict[str, Any]:
    """What a report that covers no source still needs (docs/collector-api.md, Reports)."""
    data: dict[str, Any] = json.loads(report.model_dump_json())
    keep = ("schema_version", "scanner", "host", "users", "fingerprint_scope", "policy")
    return {k: data[k] for k in keep}


def enroll_job(config: AgentConfig) -> dict[str, Any]:
    enrollment = _enrolled(config, _state_dir(config), force=True)
    return {"device_id": enrollment.device_id}


def signatures_job(config: AgentConfig) -> dict[str, Any]:
    from shadowmap.agent.signing import pull_pack

    state_dir = _state_dir(config)
    enrollment = _enrolled(config, state_dir)
    return pull_pack(config, state_dir, enrollment.device_token)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One job from the daemon: scan, enroll or signatures."""
    config_file = Path(job["config_file"]) if job.get("config_file") else None
    config = load_config(config_file, job.get("overrides") or {})
    lower_priority(config.scan_cpu_seconds)
    kind = job.get("job")
    if kind == "scan":
        return scan_job(config, job.get("sources"), bool(job.get("full")))
    if kind == "enroll":
        return enroll_job(config)
    if kind == "signatures":
        return signatures_job(config)
    raise UsageError(f"unknown job {kind!r}", hint="the daemon sends scan, enroll or signatures")


def main_stdin() -> str:
    """The CLI's `agent worker`: the job from stdin, the summary as one JSON line."""
    job = json.loads(sys.stdin.read() or "{}")
    return json.dumps(run_job(job), sort_keys=True) + "\n"
