"""Template, not run here: the Windows transport between the service and the logon helper.

A named pipe in place of the Unix socket. The service creates it with a security descriptor
that lets interactive users connect; each end learns the other's identity from the pipe
(GetNamedPipeClientProcessId + OpenProcessToken), as peers.peer_uid does from the kernel.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# Local pipes live under \\.\pipe\ (learn.microsoft.com, "Pipe Names").
PIPE_NAME = r"\\.\pipe\shadowmap-notify"
# SDDL: full access for SYSTEM and Administrators, read/write for interactive users
# (learn.microsoft.com, "Security Descriptor String Format"; IU = interactive users).
PIPE_SDDL = "D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;IU)"
# The messages are the Unix socket's: one JSON line per notice, one {"ack": id} back.


def listen():  # type: ignore[no-untyped-def]  # TODO(notify): pywin32 CreateNamedPipe + SDDL
    """Would create PIPE_NAME with PIPE_SDDL (win32pipe.CreateNamedPipe) and serve as the
    Unix NoticeServer does, per client user from its token. Not implemented."""
    raise NotImplementedError("the Windows notification pipe is a template (docs/deploy/intune.md)")
