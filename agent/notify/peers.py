"""Who is at the other end of a local socket, as the kernel says (never as the peer says).

Linux SO_PEERCRED (unix(7)); macOS LOCAL_PEERCRED (sys/un.h, struct xucred). Also where the
daemon's notification socket lives on each OS.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from pathlib import Path

# The daemon's socket: /run (FHS 3.0 runtime data) as root, the state folder otherwise.
SYSTEM_SOCKETS = {
    "linux": Path("/run/shadowmap/notify.sock"),
    "darwin": Path("/var/run/shadowmap/notify.sock"),
}
SOCKET_FILE = "notify.sock"
# sys/un.h on macOS: SOL_LOCAL is 0, LOCAL_PEERCRED is 1; xucred is (u_int version,
# uid_t uid, short ngroups, gid_t groups[16]).
SOL_LOCAL, LOCAL_PEERCRED = 0, 1
XUCRED = struct.Struct("IIh16I")


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end; OSError where the OS cannot say."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", creds)[1])
    if sys.platform == "darwin":  # TODO(notify): not run here; needs a macOS runner
        raw = sock.getsockopt(SOL_LOCAL, LOCAL_PEERCRED, XUCRED.size)
        return int(XUCRED.unpack(raw[: XUCRED.size])[1])
    raise OSError("this OS cannot tell who is at the other end of a socket")


def default_socket(state_dir: Path) -> Path:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    system = SYSTEM_SOCKETS.get(sys.platform)
    return system if is_root and system else state_dir / SOCKET_FILE


def user_name(uid: int) -> str | None:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None
