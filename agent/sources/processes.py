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


def _own_tree() -> set[int]:
    me = psutil.Process(os.getpid())
    own = {me.pid}
    try:
        own.update(child.pid for child in me.children(recursive=True))
    except psutil.Error:
        pass
    return own


def snapshot() -> list[ProcessInfo]:
    """Every process psutil can see, without our own; fields it may not read are empty."""
    own = _own_tree()
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
