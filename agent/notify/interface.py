"""The notification axis: what a notice is, what shows one, and that axis's error.

A notice says what was found, where, and what to do; it never carries a secret's value,
preview or hash. Standard library only: the daemon and the helper both import it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from shadowmap.agent.errors import ShadowmapError

# Longest title and body a notice keeps; desktop servers cut far shorter anyway
# (the freedesktop notification spec asks bodies to be "a few lines").
MAX_TITLE = 120
MAX_BODY = 600


class NotifyError(ShadowmapError):
    """No notification can be shown (no session bus, no daemon socket)."""


@dataclass(frozen=True)
class Notice:
    finding_id: str  # the dedupe key: one notice per finding, ever
    user: str  # the OS user it is for; only that user's helper receives it
    kind: str  # secret, mcp_server or browser_session
    severity: str
    title: str
    body: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        return cls(
            finding_id=str(data["finding_id"]),
            user=str(data["user"]),
            kind=str(data["kind"]),
            severity=str(data["severity"]),
            title=str(data["title"])[:MAX_TITLE],
            body=str(data["body"])[:MAX_BODY],
        )


@dataclass(frozen=True)
class NoticeRules:
    """The policy's `notifications` block, as the daemon applies it."""

    enabled: bool = True
    max_per_hour: int = 5
    quiet_start: str | None = None  # "22:00", local time
    quiet_end: str | None = None


class Notifier(ABC):
    """Shows one notice to the person at this session."""

    name: str

    @abstractmethod
    def show(self, notice: Notice) -> None:
        """Display it; NotifyError when this backend cannot."""
