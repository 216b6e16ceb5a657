"""`shadowmap agent once`: enrol if needed, scan, spool the report, send what waits.

The report is spooled before it is sent, so a collector that is down, a sleeping
laptop or a killed agent loses nothing; the collector drops retried report ids.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shadowmap.agent.client import CollectorClient, CollectorUnreachable, PostStatus
from shadowmap.agent.context import home_owner
from shadowmap.agent.enrollment import Enrollment, forget, load, save
from shadowmap.agent.errors import ConfigError, EnrollmentError
from shadowmap.agent.host import host_info
from shadowmap.agent.runner import scan_from_options, state_dir_from
from shadowmap.agent.spool import Spool

logger = logging.getLogger(__name__)

# Where MDM puts the enrol secret (never on the command line, where `ps` shows it).
ENROLL_SECRET_ENV = "SHADOWMAP_ENROLL_SECRET"


@dataclass(frozen=True)
class Outcome:
    report_id: str
    findings: int
    sent: int
    dropped: int
    waiting: int
    enrolled_now: bool
    error: str | None = None

    def describe(self) -> str:
        text = (
            f"report {self.report_id}: {self.findings} findings; "
            f"sent {self.sent}, {self.waiting} waiting in the spool"
        )
        if self.enrolled_now:
            text = "enrolled; " + text
        if self.dropped:
            text += f"; {self.dropped} refused by the collector and dropped"
        if self.error:
            text += f" ({self.error})"
        return text


def enroll_secret(secret_file: Path | None) -> str:
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the enrol secret file {secret_file}: {exc.strerror}"
            ) from None
    else:
        secret = os.environ.get(ENROLL_SECRET_ENV, "").strip()
    if not secret:
        raise ConfigError(
            "no enrol secret",
            hint=f"set {ENROLL_SECRET_ENV} or pass --enroll-secret-file (the MDM profile has it)",
        )
    return secret


def _enroll(client: CollectorClient, args: argparse.Namespace, state_dir: Path) -> Enrollment:
    home = args.home or Path.home()
    enrollment = client.enroll(
        enroll_secret(args.enroll_secret_file), host_info(), home_owner(home), args.email
    )
    save(state_dir, enrollment)
    logger.info("enrolled with %s as device %s", client.url, enrollment.device_id)
    return enrollment


def flush(
    client: CollectorClient,
    spool: Spool,
    enrollment: Enrollment,
    reenroll: Callable[[], Enrollment],
) -> tuple[int, int, str | None]:
    """Send every spooled report, oldest first; (sent, dropped, why it stopped)."""
    sent = dropped = 0
    for item in spool.pending():
        try:
            result = client.post_report(enrollment.device_token, item.body)
            if result.status is PostStatus.NODE_INVALID:
                enrollment = reenroll()
                result = client.post_report(enrollment.device_token, item.body)
        except CollectorUnreachable as exc:
            spool.failed(item.report_id, exc.message)
            return sent, dropped, exc.message
        if result.status in (PostStatus.STORED, PostStatus.DUPLICATE):
            spool.acknowledge(item.report_id)
            sent += 1
        else:
            logger.warning("collector refused report %s: %s", item.report_id, result.detail)
            spool.remove(item.report_id)
            dropped += 1
    return sent, dropped, None


def run_once(args: argparse.Namespace) -> Outcome:
    state_dir = state_dir_from(args)
    client = CollectorClient(args.collector, getattr(args, "ca_file", None))
    enrollment = load(state_dir, client.url)
    enrolled_now = enrollment is None
    if enrollment is None:
        enrollment = _enroll(client, args, state_dir)

    report = scan_from_options(args, key=enrollment.key())
    spool = Spool(state_dir)
    spool.put(report.report_id, report.model_dump_json().encode("utf-8"))

    def reenroll() -> Enrollment:
        forget(state_dir)
        try:
            return _enroll(client, args, state_dir)
        except ConfigError as exc:
            raise EnrollmentError("the collector no longer knows this device", exc.hint) from exc

    sent, dropped, error = flush(client, spool, enrollment, reenroll)
    return Outcome(
        report_id=report.report_id,
        findings=len(report.findings),
        sent=sent,
        dropped=dropped,
        waiting=spool.count(),
        enrolled_now=enrolled_now,
        error=error,
    )
