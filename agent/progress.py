"""Progress of a long scan on stderr: items done of total, MB/s, findings so far.

Shown only when asked (the CLI asks when stderr is a terminal, CI is not set and stdout
carries no JSON or SARIF); otherwise every call is a no-op. Never shows a value.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

logger = logging.getLogger(__name__)

# Redraws at most this often (tqdm's own default mininterval is 0.1 s).
REFRESH_SECONDS = 0.2
# Set by GitHub Actions, GitLab CI, CircleCI, Travis and most others.
CI_ENV = "CI"
QUIET_FORMATS = ("json", "sarif")


def wanted(fmt: str, to_stdout: bool, stream: TextIO | None = None) -> bool:
    """Whether a scan should show progress: a terminal on stderr, not CI, not machine
    output on stdout."""
    stream = stream or sys.stderr
    if os.environ.get(CI_ENV) or (to_stdout and fmt in QUIET_FORMATS):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """A tqdm bar, or nothing when not shown or when tqdm is missing."""

    def __init__(self, enabled: bool, label: str = "scanning") -> None:
        self._bar: Any = None
        self._bytes = 0
        self._started = time.monotonic()
        if not enabled:
            return
        try:
            from tqdm import tqdm  # type: ignore[import-untyped]
        except ImportError:
            logger.debug("tqdm is not installed: no progress bar")
            return
        self._bar = tqdm(
            total=0, desc=label, unit="blob", file=sys.stderr, mininterval=REFRESH_SECONDS,
            leave=False, dynamic_ncols=True,
        )  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.refresh()  # the last counts, drawn once whatever the interval
            self._bar.close()

    def start(self, total: int, label: str) -> None:
        if self._bar is not None:
            self._bar.reset(total=total)
            self._bar.set_description(label)
            self._bytes, self._started = 0, time.monotonic()

    def advance(self, size: int, findings: int) -> None:
        if self._bar is None:
            return
        self._bytes += size
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._bar.set_postfix(
            {"MB/s": f"{self._bytes / elapsed / 1e6:.1f}", "findings": findings}, refresh=False
        )
        self._bar.update(1)
