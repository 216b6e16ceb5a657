"""`shadowmap agent run`: the fleet daemon. Schedules scans, watches files, sends, notifies.

Holds none of the scanner's imports: every scan (and enrolment, and signature pull) runs in
a child (agent/worker.py) at low priority with a CPU budget. The spool is the only hand-off,
so a kill -9 at any moment loses nothing acknowledged; report ids make a resend harmless.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowmap.agent.client import CollectorClient, CollectorUnreachable, PostStatus
from shadowmap.agent.config import AgentConfig, enroll_secret, state_dir
from shadowmap.agent.daemon_log import hold_lock, setup_logging
from shadowmap.agent.schedule import Backoff, jittered
from shadowmap.agent.spool import Spool

logger = logging.getLogger(__name__)

# cli.LOGLEVEL_ENV: the child logs at the daemon's level.
LOGLEVEL_ENV = "SHADOWMAP_LOGLEVEL"
# The enrolment the worker saves (enrollment.ENROLLMENT_FILE, not imported: that module
# pulls pydantic into the daemon; tests/agent/test_daemon.py keeps the two equal).
ENROLLMENT_FILE = "enrollment.json"
# Reports sent per round before the loop looks at its other work again.
SEND_BATCH = 20
# How much of a child's stderr the daemon keeps for its log.
MAX_CHILD_LOG = 64 * 1024
# A scan that failed is tried again after this backoff, from a minute up to the interval.
SCAN_RETRY_BASE = 60.0


def self_command() -> list[str]:
    """How to run this same program: the frozen binary itself, or this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "shadowmap.agent.cli"]


class Daemon:
    def __init__(self, config: AgentConfig, config_file: Path | None) -> None:
        self.config, self.config_file = config, config_file
        self.state_dir = state_dir(config)
        self.stop, self.wake = threading.Event(), threading.Event()
        self.client = CollectorClient(config.collector, config.ca_file)
        self.spool = Spool(self.state_dir, config.spool_max_bytes)
        self.send_backoff = Backoff(config.backoff_base, config.backoff_max)
        self.scan_backoff = Backoff(SCAN_RETRY_BASE, config.interval)
        self.child: subprocess.Popen[bytes] | None = None
        self.watcher: Any = None
        self.notices: Any = None
        self.plan: tuple[Any, ...] = ()
        self.heartbeat: dict[str, Any] | None = None
        now = time.monotonic()
        self.next_full = self.next_full_report = self.next_send = now
        self.next_heartbeat = now + jittered(config.heartbeat_interval, config.jitter)
        self.next_signatures = now  # right after the first scan, which enrols

    # The loop

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self._start_helpers()
        logger.info("agent started: collector %s, state %s", self.client.url, self.state_dir)
        while not self.stop.is_set():
            self._tick(time.monotonic())
            self.wake.wait(self._sleep_for(time.monotonic()))
            self.wake.clear()
        self._shutdown()

    def _on_signal(self, signum: int, _frame: object) -> None:
        logger.info("signal %d: stopping", signum)
        self.stop.set()
        self.wake.set()
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()

    def _tick(self, now: float) -> None:
        """Send first (what waits from before a restart goes before a long scan), then scan."""
        self._send_due(now)
        if now >= self.next_full:
            self._full_scan(now)
        elif self.watcher is not None:
            due, replan = self.watcher.take_due(now)
            if due:
                self._scan(sorted(due), full=False, replan=replan)
        if self.config.signature_public_key and now >= self.next_signatures:
            self._pull_signatures(now)
        self._send_due(time.monotonic())

    def _send_due(self, now: float) -> None:
        if now >= self.next_send and self.spool.count():
            self._flush(now)
        elif now >= self.next_heartbeat and not self.spool.count():
            self._send_heartbeat(now)

    def _sleep_for(self, now: float) -> float:
        deadlines = [self.next_full, self.next_heartbeat]
        if self.spool.count():
            deadlines.append(self.next_send)
        if self.config.signature_public_key:
            deadlines.append(self.next_signatures)
        if self.watcher is not None and (watched := self.watcher.next_deadline()) is not None:
            deadlines.append(watched)
        return max(0.0, min(deadlines) - now)

    # Scans

    def _full_scan(self, now: float) -> None:
        full = now >= self.next_full_report
        if self._scan(None, full=full, replan=True):
            self.next_full = now + jittered(self.config.interval, self.config.jitter)
            if full:
                self.next_full_report = now + self.config.full_report_interval
            if self.watcher is not None:
                self.watcher.scanned_all(time.monotonic())
        else:
            self.next_full = now + self.scan_backoff.next_delay()

    def _scan(self, sources: list[str] | None, full: bool, replan: bool) -> bool:
        what = ", ".join(sources) if sources else "every source"
        summary = self._job({"job": "scan", "sources": sources, "full": full})
        if summary is None:
            return False
        self.scan_backoff.reset()
        logger.info(
            "scanned %s: %d findings; report %s covers %s",
            what, summary["findings"], summary["report_id"] or "(none: unchanged)",
            ", ".join(summary["sources"]) or "nothing",
        )  # fmt: skip
        self.heartbeat = summary["heartbeat"]
        if summary["report_id"]:
            self.next_send = min(self.next_send, time.monotonic())
        if replan and self.watcher is not None:
            self._apply_plan(summary)
        if self.notices is not None:
            self._submit_notices(summary)
        return True

    def _apply_plan(self, summary: dict[str, Any]) -> None:
        plan = (tuple(json.dumps(t, sort_keys=True) for t in summary["watch"]), *summary["homes"])
        if plan != self.plan:
            self.plan = plan
            self.watcher.apply(summary["watch"], summary["homes"])

    def _submit_notices(self, summary: dict[str, Any]) -> None:
        from shadowmap.agent.notify.interface import Notice, NoticeRules

        notices = [Notice.from_dict(n) for n in summary["notices"]]
        self.notices.submit(notices, NoticeRules(**summary["rules"]))

    def _job(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """Run one job in a child; its summary, or None (logged) when it failed."""
        job = {**job, "config_file": str(self.config_file or ""), "overrides": self._overrides()}
        command = [*self_command(), "agent", "worker"]
        try:
            self.child = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**os.environ, LOGLEVEL_ENV: self._child_level()},
            )  # fmt: skip
            out, err = self.child.communicate(json.dumps(job).encode(), self.config.scan_timeout)
        except subprocess.TimeoutExpired:
            assert self.child is not None
            self.child.kill()
            out, err = self.child.communicate()
            logger.warning("%s job stopped after %.0f s", job["job"], self.config.scan_timeout)
            return None
        except OSError as exc:
            logger.error("cannot start the scan child: %s", exc)
            return None
        finally:
            code = self.child.returncode if self.child else None
            self.child = None
        self._relay(err)
        return _summary(job["job"], code, out, self.config.scan_cpu_seconds)

    def _overrides(self) -> dict[str, str]:
        return {**self.config.to_overrides(), "state_dir": str(self.state_dir)}

    def _child_level(self) -> str:
        """The daemon's level, through the environment (-v would add tracebacks)."""
        return logging.getLevelName(logging.getLogger("shadowmap").getEffectiveLevel())

    def _relay(self, err: bytes) -> None:
        for line in err[-MAX_CHILD_LOG:].decode("utf-8", "replace").splitlines():
            text = line.removeprefix("shadowmap: ")
            loud = text.startswith(("WARNING", "ERROR", "error", "next"))
            logger.log(logging.WARNING if loud else logging.INFO, "scan child: %s", text)

    # Sending

    def _token(self) -> str | None:
        try:
            data = json.loads((self.state_dir / ENROLLMENT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("collector") != self.client.url:
            return None
        return str(data.get("device_token") or "") or None

    def _reenroll(self) -> str | None:
        logger.warning("the collector no longer knows this device; enrolling again")
        return self._token() if self._job({"job": "enroll"}) is not None else None

    def _flush(self, now: float) -> None:
        token = self._token() or self._reenroll()
        if token is None:
            self.next_send = now + self.send_backoff.next_delay()
            return
        for item in self.spool.pending(SEND_BATCH):
            try:
                result = self.client.post_report(token, item.body)
                if result.status is PostStatus.NODE_INVALID:
                    token = self._reenroll() or token
                    result = self.client.post_report(token, item.body)
            except CollectorUnreachable as exc:
                self.spool.failed(item.report_id, exc.message)
                delay = self.send_backoff.next_delay(exc.retry_after)
                self.next_send = time.monotonic() + delay
                logger.warning("%s; %d reports wait, next try in %.0f s",
                               exc.message, self.spool.count(), delay)  # fmt: skip
                return
            self._settle(item.report_id, result.status, result.detail)

    def _settle(self, report_id: str, status: PostStatus, detail: str) -> None:
        if status in (PostStatus.STORED, PostStatus.DUPLICATE):
            self.spool.acknowledge(report_id)
            self.send_backoff.reset()
            self.next_heartbeat = time.monotonic() + self.config.heartbeat_interval
            logger.info("report %s %s", report_id, status.value)
        elif status is PostStatus.REJECTED:
            logger.warning("collector refused report %s (%s); dropped", report_id, detail)
            self.spool.remove(report_id)

    def _send_heartbeat(self, now: float) -> None:
        """A report that covers no source: the collector sees the device alive, resolves
        nothing."""
        token = self._token()
        if self.heartbeat is None or token is None:
            self.next_heartbeat = now + self.config.heartbeat_interval
            return
        body = {
            **self.heartbeat,
            "report_id": str(uuid.uuid4()),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sources": [],
            "findings": [],
        }
        try:
            result = self.client.post_report(token, json.dumps(body).encode("utf-8"))
        except CollectorUnreachable as exc:
            self.next_heartbeat = now + self.send_backoff.next_delay(exc.retry_after)
            return
        if result.status is PostStatus.NODE_INVALID:
            self._reenroll()
        self.next_heartbeat = now + jittered(self.config.heartbeat_interval, self.config.jitter)

    def _pull_signatures(self, now: float) -> None:
        summary = self._job({"job": "signatures"})
        status = summary.get("status") if summary else "failed"
        logger.info("signature pack: %s", status)
        if status == "installed":
            self.next_full = now  # rescan with the new signatures
        self.next_signatures = now + jittered(self.config.signatures_interval, self.config.jitter)

    # Start and stop

    def _start_helpers(self) -> None:
        if self.config.watch:
            from shadowmap.agent.watch import Watcher

            self.watcher = Watcher(self.config.debounce, self.config.min_rescan_gap, self.wake)
        if sys.platform != "win32":
            from shadowmap.agent.notify.outbox import Outbox
            from shadowmap.agent.notify.peers import default_socket
            from shadowmap.agent.notify.server import NoticeServer

            path = self.config.notify_socket or default_socket(self.state_dir)
            try:
                self.notices = NoticeServer(path, Outbox(self.state_dir))
                self.notices.start()
            except OSError as exc:
                logger.warning("no notifications: cannot listen on %s (%s)", path, exc.strerror)

    def _shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.notices is not None:
            self.notices.stop()
        logger.info("agent stopped; %d reports wait in the spool", self.spool.count())


def _summary(job: str, code: int | None, out: bytes, budget: int) -> dict[str, Any] | None:
    if code == -getattr(signal, "SIGXCPU", 0) or code == -signal.SIGKILL:
        logger.warning("%s job stopped: over its CPU budget of %d s", job, budget)
        return None
    if code != 0:
        logger.warning("%s job failed (exit %s)", job, code)
        return None
    try:
        summary: dict[str, Any] = json.loads(out)
    except ValueError:
        logger.warning("%s job wrote no summary", job)
        return None
    return summary


def run_daemon(config_file: Path | None, overrides: dict[str, Any], verbosity: int) -> None:
    """Run until SIGTERM: the one entry point of `shadowmap agent run`."""
    from shadowmap.agent.config import load_config

    config = load_config(config_file, overrides)
    folder = state_dir(config)
    setup_logging(config.log_file or folder / "agent.log", verbosity)
    if not (folder / ENROLLMENT_FILE).exists():
        enroll_secret(config)  # no secret and not enrolled: say so now, not in a log
    with hold_lock(folder):
        Daemon(config, config_file).run()
