"""Facts about this host that a report carries: machine id, hostname, OS."""

from __future__ import annotations

import logging
import os
import platform
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from shadowmap.agent.context import this_os
from shadowmap.agent.models import HostInfo, OSName

logger = logging.getLogger(__name__)

# systemd's machine-id(5), with D-Bus's older copy as a fallback.
LINUX_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
# Tests and unusual hosts may pin the id (one machine playing several devices).
MACHINE_ID_ENV = "SHADOWMAP_MACHINE_ID"


def _linux_machine_id() -> str | None:
    for name in LINUX_MACHINE_ID_FILES:
        try:
            value = Path(name).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if value:
            return value
    return None


def _macos_machine_id() -> str | None:
    try:
        out = subprocess.run(
            ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=")[-1].strip().strip('"')
    return None


def _windows_machine_id() -> str | None:
    if sys.platform != "win32":
        return None
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as k:
            return str(winreg.QueryValueEx(k, "MachineGuid")[0])
    except OSError:
        return None


def machine_id() -> str:
    pinned = os.environ.get(MACHINE_ID_ENV)
    if pinned:
        return pinned
    readers = {
        OSName.LINUX: _linux_machine_id,
        OSName.MACOS: _macos_machine_id,
        OSName.WINDOWS: _windows_machine_id,
    }
    found = readers[this_os()]()
    if found:
        return found
    logger.warning("no OS machine id found; using one derived from the hostname and MAC")
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{socket.gethostname()}-{uuid.getnode()}"))


def host_info() -> HostInfo:
    return HostInfo(
        machine_id=machine_id(),
        hostname=socket.gethostname(),
        os=this_os(),
        os_version=platform.release(),
        arch=platform.machine(),
    )
