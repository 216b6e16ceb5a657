"""The daemon's logs and its single-instance lock.

A rotating file in the state folder, plus the journal: under systemd, stderr is a journal
stream (JOURNAL_STREAM) and a "<N>" prefix sets each line's priority (sd-daemon(3)).
launchd sends stderr to the plist's StandardErrorPath, which the unified log collects.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from shadowmap.agent.errors import ConfigError

logger = logging.getLogger(__name__)

# 4 files of 5 MiB: a month of an ordinary laptop's INFO lines, bounded on disk.
LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 3
LOCK_FILE = "agent.lock"
# syslog(3) priorities for the journal's "<N>" prefix.
PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = PRIORITIES.get(record.levelno, 3)
        return f"<{priority}>{record.levelname.lower()}: {super().format(record)}"


def _stderr_is_journal() -> bool:
    """systemd.exec(5): JOURNAL_STREAM is "device:inode" of the stream stderr points at."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stream == f"{info.st_dev}:{info.st_ino}"


def setup_logging(log_file: Path, verbosity: int) -> None:
    """Add the rotating file (mode 0600) and, under systemd, journal priorities."""
    root = logging.getLogger("shadowmap")
    if verbosity == 0 and root.level > logging.INFO:
        root.setLevel(logging.INFO)  # a daemon logs its decisions unless told otherwise
    if _stderr_is_journal():
        for handler in root.handlers:
            handler.setFormatter(JournalFormatter("%(message)s"))
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        log_file.chmod(0o600)
    except OSError as exc:
        logger.warning("not logging to %s: %s", log_file, exc.strerror)
        return
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)


@contextlib.contextmanager
def hold_lock(state_dir: Path) -> Iterator[None]:
    """One daemon per state folder; the kernel drops the lock when the process dies."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = (state_dir / LOCK_FILE).open("a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # TODO(daemon): msvcrt.locking on Windows
            pass
        except OSError:
            raise ConfigError(
                f"another shadowmap agent is running with state folder {state_dir}",
                hint="stop it first (systemctl stop shadowmap-agent), or pass --state-dir",
            ) from None
        yield
    finally:
        handle.close()
