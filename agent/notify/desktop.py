"""Shows a notice with desktop-notifier: D-Bus on Linux, Notification Center on macOS, toasts
on Windows. Runs in the per-user helper, inside the user's session."""

from __future__ import annotations

import logging
from typing import Any

from shadowmap.agent.notify.interface import Notice, Notifier, NotifyError

logger = logging.getLogger(__name__)

APP_NAME = "shadowmap"
# Severities that ask the desktop to keep the notice up (freedesktop spec: urgency 2).
CRITICAL = frozenset({"high", "critical"})


class DesktopNotifier(Notifier):
    name = "desktop-notifier"

    def __init__(self) -> None:
        try:
            from desktop_notifier import DesktopNotifierSync, Urgency
        except ImportError as exc:
            raise NotifyError(
                "desktop-notifier is not installed", hint="pip install desktop-notifier"
            ) from exc
        self._urgency: Any = Urgency
        self._notifier = DesktopNotifierSync(app_name=APP_NAME)

    def show(self, notice: Notice) -> None:
        urgency = self._urgency.Critical if notice.severity in CRITICAL else self._urgency.Normal
        try:
            self._notifier.send(title=notice.title, message=notice.body, urgency=urgency)
        except Exception as exc:  # every backend raises its own (dbus-fast, rubicon, winrt)
            raise NotifyError(
                f"the desktop refused the notification ({type(exc).__name__})"
            ) from exc
