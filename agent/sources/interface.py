"""What every source shares: the typed reason a thing could not be read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unreadable(Exception):
    """A file or entry a source could not read, and why; it becomes a report warning."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
