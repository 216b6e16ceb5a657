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
    via: str = "psutil"  # or "osquery"


def _process(pid: int | None) -> tuple[str, str, tuple[str, ...], str]:
    if pid is None:
        return "", "", (), ""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return proc.name(), proc.exe() or "", tuple(proc.cmdline()), proc.username()
    except (psutil.Error, OSError):
        return "", "", (), ""


def _from_osquery(own: int) -> list[Listener] | None:
    from shadowmap.agent.sources import osquery

    try:
        rows = osquery.query(osquery.LISTENING_SQL)
    except osquery.OsqueryUnavailable as exc:
        logger.debug("listening sockets from psutil: %s", exc)
        return None
    found = []
    for row in rows:
        pid, port = osquery.as_int(row.get("pid", "")), osquery.as_int(row.get("port", ""))
        if port is None or pid == own:
            continue
        found.append(
            Listener(
                address=row.get("address", ""),
                port=port,
                pid=pid,
                process=row.get("name", ""),
                exe=row.get("path", ""),
                cmdline=osquery.split_cmdline(row.get("cmdline", "")),
                username=row.get("username", ""),
                via="osquery",
            )
        )
    return found


def listening() -> list[Listener]:
    """Every listening TCP socket, without shadowmap's own: osquery's when it runs here."""
    from_osquery = _from_osquery(os.getpid())
    return from_osquery if from_osquery is not None else _from_psutil()


def _from_psutil() -> list[Listener]:
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
