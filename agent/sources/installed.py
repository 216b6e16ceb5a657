"""What the OS says is installed: macOS app bundles (Info.plist), Linux .desktop files,
Flatpak and Snap packages. Reads only; each listing is made once per scan."""

from __future__ import annotations

import logging
import plistlib
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shadowmap.agent.context import ScanContext
from shadowmap.agent.sources.macho import read_signature

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
# Where Windows keeps "Apps & features" entries, machine-wide, 32-bit and per user
# (learn.microsoft.com, "Uninstall Registry Key").
UNINSTALL_KEYS = (
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"),
    ("HKEY_CURRENT_USER", r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
)
UNINSTALL_VALUES = ("DisplayName", "DisplayVersion", "InstallLocation", "InstallDate", "Publisher")


@dataclass(frozen=True)
class Installed:
    path: Path
    version: str | None = None
    installed_at: str | None = None
    team_id: str | None = None  # macOS: the Team ID the main executable is signed with


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
    executable = info.get("CFBundleExecutable")
    signature = (
        read_signature(app / "Contents" / "MacOS" / executable)
        if isinstance(executable, str) and "/" not in executable
        else None
    )
    team = signature.team_id if signature else None
    return bundle_id, Installed(app, str(version) if version else None, _mtime(app), team)


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


def _registry_entries() -> list[dict[str, str]]:
    """Every uninstall entry of this Windows machine (empty elsewhere)."""
    if sys.platform != "win32":
        return []
    import winreg

    found = []
    for hive_name, path in UNINSTALL_KEYS:
        hive = getattr(winreg, hive_name)
        try:
            root = winreg.OpenKey(hive, path)
        except OSError:
            continue
        with root:
            for index in range(winreg.QueryInfoKey(root)[0]):
                entry: dict[str, str] = {"key": f"{hive_name}\\{path}"}
                try:
                    with winreg.OpenKey(root, winreg.EnumKey(root, index)) as sub:
                        for value in UNINSTALL_VALUES:
                            try:
                                entry[value] = str(winreg.QueryValueEx(sub, value)[0])
                            except OSError:
                                pass
                except OSError:
                    continue
                found.append(entry)
    return found


def by_display_name(entries: list[dict[str, str]]) -> dict[str, Installed]:
    """Uninstall entries by their display name, with version and install date."""
    found: dict[str, Installed] = {}
    for entry in entries:
        name = entry.get("DisplayName", "").strip()
        if not name:
            continue
        date = entry.get("InstallDate", "")
        when = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 and date.isdigit() else None
        where = entry.get("InstallLocation") or entry.get("key", "registry")
        found.setdefault(name, Installed(Path(where), entry.get("DisplayVersion") or None, when))
    return found


def uninstall_entries(ctx: ScanContext) -> dict[str, Installed]:
    """Windows "Apps & features" entries, when this scan reads the real machine."""
    if ctx.root != Path(ctx.root.anchor):
        return {}  # a copied tree under --root has no registry to read
    return ctx.memo("installed.uninstall", lambda: by_display_name(_registry_entries()))


def matches_product(display_name: str, product: str) -> bool:
    """ "Cursor" matches "Cursor" and "Cursor (User)" or "Cursor 1.4", not "Cursorless"."""
    return display_name == product or display_name.startswith(product + " ")
