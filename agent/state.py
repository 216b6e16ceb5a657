"""Where shadowmap keeps its own state (fingerprint key, enrolment, spool) on each OS."""

from __future__ import annotations

import os
from pathlib import Path

from shadowmap.agent.context import this_os
from shadowmap.agent.models import OSName

# Overrides the default, for tests and unusual hosts.
STATE_DIR_ENV = "SHADOWMAP_STATE_DIR"


def default_state_dir() -> Path:
    """A service's state folder (FHS /var/lib, macOS Application Support, ProgramData);
    a user's own state folder when not run as an administrator (XDG_STATE_HOME)."""
    pinned = os.environ.get(STATE_DIR_ENV)
    if pinned:
        return Path(pinned)
    system = this_os()
    if system is OSName.WINDOWS:
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "shadowmap"
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if system is OSName.MACOS:
        base = Path("/Library") if is_root else Path.home() / "Library"
        return base / "Application Support" / "shadowmap"
    if is_root:
        return Path("/var/lib/shadowmap")
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "shadowmap"
