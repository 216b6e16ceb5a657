"""`shadowmap agent notify-helper`: runs in a user's session, shows what the daemon sends.

Connects to the daemon's socket, checks that the kernel says root (or this user) is at the
other end, shows each notice and acknowledges it. Reconnects with backoff; holds no state.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from pathlib import Path

from shadowmap.agent.notify.interface import Notice, Notifier, NotifyError
from shadowmap.agent.notify.peers import peer_uid
from shadowmap.agent.schedule import Backoff

logger = logging.getLogger(__name__)

# Seconds between reconnects while the daemon is away: from 1 s up to a minute.
RECONNECT = Backoff(base=1.0, cap=60.0)


def _trusted(conn: socket.socket) -> bool:
    """Only root's daemon or our own (a user-level daemon) may tell us what to show."""
    try:
        uid = peer_uid(conn)
    except OSError:
        return False
    return uid in (0, os.geteuid())


def serve_session(conn: socket.socket, notifier: Notifier) -> int:
    """Show notices until the daemon hangs up; how many were shown."""
    shown = 0
    with conn.makefile("rb") as lines:
        for line in lines:
            try:
                notice = Notice.from_dict(json.loads(line)["notice"])
            except (ValueError, KeyError, TypeError):
                logger.warning("ignored a malformed message from the daemon")
                continue
            try:
                notifier.show(notice)
            except NotifyError as exc:
                logger.warning("notice %s not shown: %s", notice.finding_id, exc.message)
                continue
            conn.sendall(json.dumps({"ack": notice.finding_id}).encode() + b"\n")
            shown += 1
    return shown


def run_helper(path: Path, notifier: Notifier, stop: threading.Event | None = None) -> None:
    """Connect, show, reconnect; returns only when ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(path))
            if not _trusted(conn):
                logger.warning("%s is not the shadowmap daemon's socket; not listening", path)
            else:
                RECONNECT.reset()
                logger.info("connected to %s", path)
                serve_session(conn, notifier)
        except OSError as exc:
            logger.debug("daemon socket %s: %s", path, exc.strerror or exc)
        finally:
            conn.close()
        stop.wait(RECONNECT.next_delay())
