"""The agent's enrolment with a collector, kept in its state folder (mode 0600)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from shadowmap.agent.redact import FingerprintKey

logger = logging.getLogger(__name__)

ENROLLMENT_FILE = "enrollment.json"


@dataclass(frozen=True)
class Enrollment:
    collector: str
    device_id: str
    device_token: str
    fingerprint_key: str
    fingerprint_scope: str

    def __repr__(self) -> str:  # the token and key never reach a log
        return f"Enrollment(collector={self.collector!r}, device_id={self.device_id!r})"

    def key(self) -> FingerprintKey:
        return FingerprintKey(bytes.fromhex(self.fingerprint_key), self.fingerprint_scope)


def load(state_dir: Path, collector: str) -> Enrollment | None:
    """The enrolment with this collector, if there is a usable one."""
    path = state_dir / ENROLLMENT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        enrollment = Enrollment(**data)
        bytes.fromhex(enrollment.fingerprint_key)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring unusable enrolment file %s: %s", path, type(exc).__name__)
        return None
    if enrollment.collector != collector:
        logger.info("enrolled with %s, not %s; enrolling again", enrollment.collector, collector)
        return None
    return enrollment


def save(state_dir: Path, enrollment: Enrollment) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / ENROLLMENT_FILE
    partial = target.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(enrollment), handle)
    os.replace(partial, target)


def forget(state_dir: Path) -> None:
    (state_dir / ENROLLMENT_FILE).unlink(missing_ok=True)
