"""What one scan looks at: the home, the system root, the OS layout, and how paths map.

Turns signature paths ("~/...", "/...", "{appdata}/...") into real paths under the
chosen home and root. Reads nothing itself.
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from shadowmap.agent.errors import UsageError
from shadowmap.agent.models import OSName
from shadowmap.agent.redact import FingerprintKey
from shadowmap.agent.sources.filesystem import walk_dirs
from shadowmap.signatures import SignaturePack

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How deep under the home a project folder may sit (~/src/org/repo is depth 3).
PROJECT_DEPTH = 5

# Windows known folders as the home- or root-relative paths they default to
# (learn.microsoft.com, "Known folders"; %APPDATA% and %LOCALAPPDATA% under the profile).
# The per-OS folder where apps keep settings: XDG_CONFIG_HOME's default, macOS
# Application Support, Windows %APPDATA% (freedesktop basedir spec; Apple File System
# Programming Guide; learn.microsoft.com Known folders).
APP_CONFIG = {
    OSName.LINUX: ".config",
    OSName.MACOS: "Library/Application Support",
    OSName.WINDOWS: "AppData/Roaming",
}
WINDOWS_FOLDERS = {
    "{appdata}": ("home", "AppData/Roaming"),
    "{localappdata}": ("home", "AppData/Local"),
    "{programdata}": ("root", "ProgramData"),
    "{programfiles}": ("root", "Program Files"),
}


def this_os() -> OSName:
    system = platform.system()
    if system == "Darwin":
        return OSName.MACOS
    if system == "Windows":
        return OSName.WINDOWS
    return OSName.LINUX


def home_owner(home: Path) -> str:
    """The OS user a home belongs to: its owner where the OS says, else the current user."""
    try:
        import pwd

        return pwd.getpwuid(home.stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return getpass.getuser()


@dataclass(frozen=True)
class ScanContext:
    home: Path
    root: Path
    os: OSName
    live: bool
    user: str
    key: FingerprintKey
    signatures: SignaturePack
    state_dir: Path | None = None  # shadowmap's own state, where a scan may remember things
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Work that several detectors share is done once per scan."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    @cached_property
    def project_dirs(self) -> list[Path]:
        """The home and the folders under it that may hold projects, walked once a scan."""
        return list(walk_dirs(self.home, PROJECT_DEPTH))

    def resolve(self, pattern: str) -> Path:
        """A signature path as a real path (may contain glob characters)."""
        if pattern.startswith("{appconfig}"):
            rest = pattern[len("{appconfig}") :].lstrip("/")
            return self.home / APP_CONFIG[self.os] / rest
        for token, (base, rel) in WINDOWS_FOLDERS.items():
            if pattern.startswith(token):
                anchor = self.home if base == "home" else self.root
                return anchor / rel / pattern[len(token) :].lstrip("/")
        if pattern == "~" or pattern.startswith("~/"):
            return self.home / pattern[2:]
        if pattern.startswith("/"):
            return self.root / pattern.lstrip("/")
        raise ValueError(f"signature path is neither home- nor root-relative: {pattern}")

    def expand(self, pattern: str) -> list[Path]:
        """Every existing path a signature path names, globs expanded."""
        path = self.resolve(pattern)
        if not any(ch in str(path) for ch in "*?["):
            return [path] if path.exists() or path.is_symlink() else []
        anchor = Path(path.anchor)
        try:
            return sorted(anchor.glob(str(path.relative_to(anchor))))
        except (OSError, ValueError):
            return []

    def display(self, path: Path) -> str:
        """A path as a report shows it: system paths as the host sees them, under --root."""
        if self.root != Path("/"):
            try:
                return "/" + path.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.as_posix()


def make_context(
    *,
    home: Path | None,
    root: Path | None,
    os_name: OSName | None,
    live: bool,
    key: FingerprintKey,
    signatures: SignaturePack,
    state_dir: Path | None = None,
    user: str | None = None,
) -> ScanContext:
    home = (home or Path.home()).expanduser()
    root = root or Path(os.path.abspath(os.sep))
    for label, path in (("--home", home), ("--root", root)):
        if not path.is_dir():
            raise UsageError(f"{label} {path} is not a folder", hint="give an existing folder")
    return ScanContext(
        home=home.resolve(),
        root=root.resolve(),
        os=os_name or this_os(),
        live=live,
        user=user or home_owner(home),
        key=key,
        signatures=signatures,
        state_dir=state_dir,
    )
