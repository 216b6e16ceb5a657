"""The homes of a machine's people, for a scan run as root (one report, every user).

Linux homes come from the passwd file under the root (login users: uid 1000 and up, and
root); macOS homes are the folders in /Users; Windows homes the folders in C:\\Users.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from shadowmap.agent.models import OSName

logger = logging.getLogger(__name__)

# passwd(5): name:password:uid:gid:gecos:home:shell; login users start at UID_MIN, 1000 on
# Debian, Fedora and Ubuntu (login.defs(5)); 65534 is "nobody".
FIRST_LOGIN_UID = 1000
NOBODY_UID = 65534
NO_LOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
# Folders in /Users and C:\Users that are no one's home (Apple and Microsoft defaults).
NOT_HOMES = frozenset(
    {
        "Shared",
        "Guest",
        "Public",
        "Default",
        "Default User",
        "All Users",
        "defaultuser0",
        ".localized",
    }
)


@dataclass(frozen=True)
class Home:
    user: str
    path: Path


def _under(root: Path, absolute: str) -> Path:
    return root / absolute.lstrip("/")


def linux_homes(root: Path) -> list[Home]:
    try:
        lines = (
            _under(root, "/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()
        )
    except OSError as exc:
        logger.warning("cannot read the user list: %s", exc.strerror)
        return []
    homes = []
    for line in lines:
        fields = line.split(":")
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        name, uid, home, shell = fields[0], int(fields[2]), fields[5], fields[6]
        login = uid == 0 or (FIRST_LOGIN_UID <= uid != NOBODY_UID and shell not in NO_LOGIN_SHELLS)
        path = _under(root, home)
        if login and home and path.is_dir():
            homes.append(Home(name, path))
    return homes


def folder_homes(users_dir: Path) -> list[Home]:
    try:
        entries = sorted(p for p in users_dir.iterdir() if p.is_dir() and p.name not in NOT_HOMES)
    except OSError:
        return []
    return [Home(p.name, p) for p in entries if not p.name.startswith(".")]


def all_homes(root: Path, os_name: OSName) -> list[Home]:
    if os_name is OSName.LINUX:
        return linux_homes(root)
    if os_name is OSName.MACOS:
        return folder_homes(_under(root, "/Users"))
    return folder_homes(root / "Users")
