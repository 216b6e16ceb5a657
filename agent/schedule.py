"""When the daemon does things again: jittered intervals and exponential backoff.

Pure arithmetic on monotonic seconds; no clock reads, no sleeping here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


def jittered(seconds: float, spread: float) -> float:
    """``seconds`` moved by up to ``spread`` (a fraction) either way, so a fleet is not in step."""
    return max(0.0, seconds * (1 + random.uniform(-spread, spread)))


@dataclass
class Backoff:
    """Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential Backoff
    And Jitter"): half the step is fixed, half random, so retries spread but never bunch at 0."""

    base: float
    cap: float
    failures: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """The wait after one more failure; a server's Retry-After is a floor."""
        step = min(self.cap, self.base * (2**self.failures))
        self.failures += 1
        delay = step / 2 + random.uniform(0, step / 2)
        return float(max(delay, retry_after or 0.0))

    def reset(self) -> None:
        self.failures = 0
