"""Reads processes and listening sockets from osquery's tables when osquery runs here
(an extension socket, or an osqueryi shadowmap may start), through the `osquery` package.

Without osquery the psutil sources serve. Only SELECTs over osquery's own tables.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
from contextlib import suppress
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Where to find osquery: our override, the daemon's default extension socket (osquery
# docs, "extensions": --extensions_socket default /var/osquery/osquery.em), and the
# packaged osqueryi binaries (osquery docs, installing on Linux, macOS and Windows).
SOCKET_ENV = "SHADOWMAP_OSQUERY_SOCKET"
DEFAULT_SOCKETS = ("/var/osquery/osquery.em",)
OSQUERYI = ("osqueryi", "/opt/osquery/bin/osqueryi", "/usr/local/bin/osqueryi")
# A query gives up after this many seconds (osquery's own extension timeout is 3).
CONNECT_TIMEOUT = 2.0
PROCESSES_SQL = (
    "SELECT p.pid AS pid, p.name AS name, p.path AS path, p.cmdline AS cmdline, "
    "u.username AS username FROM processes p LEFT JOIN users u ON p.uid = u.uid"
)
LISTENING_SQL = (
    "SELECT l.pid AS pid, l.port AS port, l.address AS address, p.name AS name, "
    "p.path AS path, p.cmdline AS cmdline, u.username AS username FROM listening_ports l "
    "LEFT JOIN processes p ON l.pid = p.pid LEFT JOIN users u ON p.uid = u.uid "
    "WHERE l.protocol = 6 AND l.port > 0"
)


class OsqueryUnavailable(Exception):
    """osquery is not here, or did not answer; the psutil sources serve instead."""


def socket_path() -> str | None:
    pinned = os.environ.get(SOCKET_ENV)
    if pinned:
        return pinned
    return next((s for s in DEFAULT_SOCKETS if Path(s).exists()), None)


def _client(path: str) -> Any:
    from osquery.extension_client import ExtensionClient

    client = ExtensionClient(path=path)
    if not client.open(timeout=CONNECT_TIMEOUT):
        raise OsqueryUnavailable(f"no osquery answers on {path}")
    return client


def query(sql: str) -> list[dict[str, str]]:
    """Rows of one query, from the running osquery, else from an osqueryi we start."""
    path = socket_path()
    if path:
        client = _client(path)
        try:
            return _rows(client.extension_manager_client().query(sql))
        finally:
            client.close()
    binary = next((b for b in map(shutil.which, OSQUERYI) if b), None)
    if binary is None:
        raise OsqueryUnavailable("osquery is not installed")
    from osquery.management import SpawnInstance

    instance = SpawnInstance(binary)
    try:
        instance.open(timeout=CONNECT_TIMEOUT)
        return _rows(instance.client.query(sql))
    except Exception as exc:  # the package raises bare Exception when osqueryi fails
        raise OsqueryUnavailable(f"osqueryi did not start: {exc}") from None
    finally:
        with suppress(Exception):
            del instance


def _rows(response: Any) -> list[dict[str, str]]:
    status = getattr(response, "status", None)
    if status is None or status.code != 0:
        message = getattr(status, "message", "no status")
        raise OsqueryUnavailable(f"osquery refused the query: {message}")
    return [{str(k): str(v) for k, v in row.items()} for row in response.response or []]


def split_cmdline(cmdline: str) -> tuple[str, ...]:
    """osquery gives a command line as one string; split it as a shell would, roughly."""
    try:
        return tuple(shlex.split(cmdline))
    except ValueError:
        return tuple(cmdline.split())


def as_int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
