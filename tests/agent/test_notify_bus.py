"""Not a test module: run under `dbus-run-session`, it owns org.freedesktop.Notifications
on that session bus, records every Notify call as a JSON line, and runs a command (the
notification helper) until that command ends.

    dbus-run-session -- python -m tests.agent.test_notify_bus RECORD -- COMMAND...
"""

# dbus-fast reads D-Bus type signatures ("s", "a{sv}") from the annotations, so they stay
# strings that are not Python types.
# ruff: noqa: F722, F821, UP037

import asyncio
import json
import sys
from pathlib import Path

# The freedesktop Desktop Notifications Specification 1.2: the service's name and path.
NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def make_service(record: Path):
    from dbus_fast.service import ServiceInterface, method
    from dbus_fast.service import signal as dbus_signal

    class Notifications(ServiceInterface):
        def __init__(self) -> None:
            super().__init__(NAME)
            self.count = 0

        @method()
        def Notify(
            self,
            app_name: "s",
            replaces_id: "u",
            app_icon: "s",
            summary: "s",
            body: "s",
            actions: "as",
            hints: "a{sv}",
            expire_timeout: "i",
        ) -> "u":
            self.count += 1
            line = {
                "app_name": app_name,
                "summary": summary,
                "body": body,
                "urgency": hints["urgency"].value if "urgency" in hints else None,
            }
            with record.open("a") as handle:
                handle.write(json.dumps(line) + "\n")
            return self.count

        @method()
        def GetCapabilities(self) -> "as":
            return ["body"]

        @method()
        def GetServerInformation(self) -> "ssss":
            return ["shadowmap-test", "shadowmap", "1", "1.2"]

        @method()
        def CloseNotification(self, notification_id: "u") -> None:
            return None

        @dbus_signal()
        def NotificationClosed(self) -> "uu":
            return [0, 0]

    return Notifications()


async def serve(record: Path, command: list[str]) -> int:
    from dbus_fast.aio import MessageBus

    bus = await MessageBus().connect()
    bus.export(PATH, make_service(record))
    await bus.request_name(NAME)
    record.touch()  # the service is up
    proc = await asyncio.create_subprocess_exec(*command)
    return await proc.wait()


if __name__ == "__main__":
    split = sys.argv.index("--")
    sys.exit(asyncio.run(serve(Path(sys.argv[1]), sys.argv[split + 1 :])))
