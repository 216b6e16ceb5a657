"""What the OS says is installed: macOS app bundles (Info.plist), Linux .desktop files,
Flatpak and Snap packages. Reads only; each listing is made once per scan."""

from __future__ import annotations

import logging
import plistlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shadowmap.agent.context import ScanContext

logger = logging.getLogger(__name__)

# Where bundles live (Apple: File System Programming Guide, /Applications and
# ~/Applications), and where Linux keeps desktop entries (freedesktop desktop-entry spec;
# Flatpak and snapd export theirs).
BUNDLE_DIRS = ("/Applications", "/Applications/Utilities", "~/Applications")
DESKTOP_DIRS = (
    "/usr/share/applications",
    "/usr/local/share/applications",
    "~/.local/share/applications",
    "/var/lib/flatpak/exports/share/applications",
    "~/.local/share/flatpak/exports/share/applications",
    "/var/lib/snapd/desktop/applications",
)
FLATPAK_DIRS = ("/var/lib/flatpak/app", "~/.local/share/flatpak/app")
SNAP_DIR = "/snap"


@dataclass(frozen=True)
class Installed:
    path: Path
    version: str | None = None
    installed_at: str | None = None


def _mtime(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        return None


def _bundle(app: Path) -> tuple[str, Installed] | None:
    try:
        with (app / "Contents" / "Info.plist").open("rb") as handle:
            info = plistlib.load(handle)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None
    bundle_id = info.get("CFBundleIdentifier") if isinstance(info, dict) else None
    if not isinstance(bundle_id, str):
        return None
    version = info.get("CFBundleShortVersionString") or info.get("CFBundleVersion")
    return bundle_id, Installed(app, str(version) if version else None, _mtime(app))


def bundles(ctx: ScanContext) -> dict[str, Installed]:
    """macOS bundle id -> where it is installed."""

    def compute() -> dict[str, Installed]:
        found: dict[str, Installed] = {}
        for folder in BUNDLE_DIRS:
            for app in ctx.expand(folder + "/*.app"):
                entry = _bundle(app)
                if entry:
                    found.setdefault(*entry)
        return found

    return ctx.memo("installed.bundles", compute)


def desktop_entries(ctx: ScanContext) -> dict[str, Installed]:
    """Linux desktop-file id (file name without .desktop) -> the file."""

    def compute() -> dict[str, Installed]:
        found: dict[str, Installed] = {}
        for folder in DESKTOP_DIRS:
            for entry in ctx.expand(folder + "/*.desktop"):
                found.setdefault(entry.stem, Installed(entry, None, _mtime(entry)))
        return found

    return ctx.memo("installed.desktop", compute)


def packages(ctx: ScanContext) -> dict[str, Installed]:
    """Flatpak app ids and snap names -> their install folder (version where known)."""

    def compute() -> dict[str, Installed]:
        found: dict[str, Installed] = {}
        for folder in FLATPAK_DIRS:
            for app in ctx.expand(folder + "/*"):
                found.setdefault(app.name, Installed(app, None, _mtime(app)))
        for snap in ctx.expand(SNAP_DIR + "/*"):
            current = snap / "current"
            version = f"revision {current.resolve().name}" if current.is_symlink() else None
            found.setdefault(snap.name, Installed(snap, version, _mtime(snap)))
        return found

    return ctx.memo("installed.packages", compute)
