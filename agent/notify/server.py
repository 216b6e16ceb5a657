"""The daemon's end of the notification socket: each user's helper gets that user's notices.

A thread with one selector: no polling; it wakes for a connection, an acknowledgement, new
notices, or the end of quiet hours or of the hourly rate window. Who connects is known from
the kernel (peers.peer_uid); a helper can only ever receive its own user's notices.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from shadowmap.agent.notify.interface import Notice, NoticeRules
from shadowmap.agent.notify.outbox import Outbox
from shadowmap.agent.notify.peers import peer_uid, user_name

logger = logging.getLogger(__name__)

# One line from a helper is an acknowledgement: far shorter than this.
MAX_LINE = 4096
SEND_TIMEOUT = 5.0


@dataclass
class Helper:
    user: str
    buffer: bytes = b""
    in_flight: set[str] = field(default_factory=set)


class NoticeServer(threading.Thread):
    def __init__(self, path: Path, outbox: Outbox) -> None:
        super().__init__(name="notice-server", daemon=True)
        self.path, self.outbox = path, outbox
        self.rules = NoticeRules()
        self.inbox: queue.Queue[tuple[list[Notice], NoticeRules]] = queue.Queue()
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.helpers: dict[socket.socket, Helper] = {}
        self.stopping = False
        self.listener = self._listen()

    def _listen(self) -> socket.socket:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        # As root every user may connect (and gets only their own notices); else only us.
        os.chmod(self.path, 0o666 if os.geteuid() == 0 else 0o600)
        listener.listen(16)
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        return listener

    def submit(self, notices: list[Notice], rules: NoticeRules) -> None:
        self.inbox.put((notices, rules))
        self.wake_w.send(b"!")

    def stop(self) -> None:
        self.stopping = True
        self.wake_w.send(b"!")
        self.join(timeout=5)

    def run(self) -> None:
        while not self.stopping:
            for key, _ in self.selector.select(self._timeout()):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    self.wake_r.recv(4096)
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            self._take_inbox()
            self._deliver()
        self.listener.close()
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            uid = peer_uid(conn)
        except OSError:
            conn.close()
            return
        user = user_name(uid)
        if user is None or (os.geteuid() != 0 and uid != os.geteuid()):
            logger.warning("refused a notification helper of uid %d", uid)
            conn.close()
            return
        conn.settimeout(SEND_TIMEOUT)
        self.helpers[conn] = Helper(user)
        self.selector.register(conn, selectors.EVENT_READ, "helper")
        logger.info("notification helper of %s connected", user)

    def _drop(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        self.helpers.pop(conn, None)
        conn.close()

    def _read(self, conn: socket.socket) -> None:
        helper = self.helpers[conn]
        try:
            data = conn.recv(MAX_LINE)
        except OSError:
            data = b""
        if not data or len(helper.buffer) > MAX_LINE:
            self._drop(conn)
            return
        helper.buffer += data
        *lines, helper.buffer = helper.buffer.split(b"\n")
        for line in lines:
            try:
                finding_id = str(json.loads(line)["ack"])
            except (ValueError, KeyError, TypeError):
                continue
            if finding_id in helper.in_flight:
                helper.in_flight.discard(finding_id)
                self.outbox.shown(finding_id, helper.user)

    def _take_inbox(self) -> None:
        while not self.inbox.empty():
            notices, self.rules = self.inbox.get_nowait()
            if self.outbox.add(notices):
                logger.info("queued new notices for %s", sorted({n.user for n in notices}))

    def _deliver(self) -> None:
        for conn, helper in list(self.helpers.items()):
            due = self.outbox.due(helper.user, self.rules)  # in flight ones are among them
            room = len(due) - len(helper.in_flight)
            fresh = [n for n in due if n.finding_id not in helper.in_flight][: max(0, room)]
            for notice in fresh:
                try:
                    conn.sendall(
                        json.dumps({"notice": json.loads(notice.to_json())}).encode() + b"\n"
                    )
                except OSError:
                    self._drop(conn)
                    break
                helper.in_flight.add(notice.finding_id)

    def _timeout(self) -> float | None:
        """Until the next waiting notice may go, for helpers with nothing in flight."""
        now = time.time()
        chances = [
            self.outbox.next_chance(h.user, self.rules, now)
            for h in self.helpers.values()
            if not h.in_flight
        ]
        later = [c - now for c in chances if c is not None and c > now]
        return min(later) if later else None
