"""Reads the listening TCP sockets and who holds them (psutil); never connects anywhere."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import psutil

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    pid: int | None
    process: str
    exe: str
    cmdline: tuple[str, ...]
    username: str


def _process(pid: int | None) -> tuple[str, str, tuple[str, ...], str]:
    if pid is None:
        return "", "", (), ""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return proc.name(), proc.exe() or "", tuple(proc.cmdline()), proc.username()
    except (psutil.Error, OSError):
        return "", "", (), ""


def listening() -> list[Listener]:
    """Every listening TCP socket this user may see, without shadowmap's own."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError) as exc:
        logger.info("listening sockets not readable: %s", exc)
        return []
    own = os.getpid()
    found = {}
    for conn in conns:
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.pid == own:
            continue
        key = (conn.laddr.ip, conn.laddr.port, conn.pid)
        if key not in found:
            name, exe, cmdline, user = _process(conn.pid)
            found[key] = Listener(
                conn.laddr.ip, conn.laddr.port, conn.pid, name, exe, cmdline, user
            )
    return list(found.values())
