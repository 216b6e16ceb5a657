"""Reads the running processes (psutil), leaving out shadowmap's own process tree."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import psutil

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    exe: str
    username: str
    cmdline: tuple[str, ...] = ()
    via: str = "psutil"  # or "osquery"


def _own_tree() -> set[int]:
    me = psutil.Process(os.getpid())
    own = {me.pid}
    try:
        own.update(child.pid for child in me.children(recursive=True))
    except psutil.Error:
        pass
    return own


def _from_osquery(own: set[int]) -> list[ProcessInfo] | None:
    from shadowmap.agent.sources import osquery

    try:
        rows = osquery.query(osquery.PROCESSES_SQL)
    except osquery.OsqueryUnavailable as exc:
        logger.debug("processes from psutil: %s", exc)
        return None
    found = []
    for row in rows:
        pid = osquery.as_int(row.get("pid", ""))
        if pid is None or pid in own:
            continue
        found.append(
            ProcessInfo(
                pid=pid,
                name=row.get("name", ""),
                exe=row.get("path", ""),
                username=row.get("username", ""),
                cmdline=osquery.split_cmdline(row.get("cmdline", "")),
                via="osquery",
            )
        )
    return found


def snapshot() -> list[ProcessInfo]:
    """Every process, without our own: from osquery when it runs here, else psutil."""
    own = _own_tree()
    from_osquery = _from_osquery(own)
    return from_osquery if from_osquery is not None else _from_psutil(own)


def _from_psutil(own: set[int]) -> list[ProcessInfo]:
    """Every process psutil can see; fields it may not read are empty."""
    seen = []
    for proc in psutil.process_iter(["pid", "name", "exe", "username", "cmdline"]):
        info = proc.info
        if info["pid"] in own:
            continue
        seen.append(
            ProcessInfo(
                pid=info["pid"],
                name=info.get("name") or "",
                exe=info.get("exe") or "",
                username=info.get("username") or "",
                cmdline=tuple(info.get("cmdline") or ()),
            )
        )
    return seen
