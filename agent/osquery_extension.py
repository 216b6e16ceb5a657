"""`shadowmap osquery-extension`: shadowmap's findings as osquery tables, so fleets that
run osquery (Fleet, Kolide) can query them: `SELECT * FROM shadowmap_findings`.

Registers with osquery's extension manager through the `osquery` package's generated
Thrift code and answers on the socket osquery assigns; each query scans (cached briefly).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shadowmap.agent import __version__
from shadowmap.agent.errors import ScanError
from shadowmap.agent.models import Finding, FindingKind, Report

logger = logging.getLogger(__name__)

# osquery's extension SDK version we speak (osquery package: start_extension defaults).
SDK_VERSION = "3.0.7"
MIN_SDK_VERSION = "1.8.0"
# A scan answers every query for this long; osquery may query a table many times a minute.
CACHE_SECONDS = 60
FINDING_COLUMNS = (
    "id",
    "detector",
    "kind",
    "source",
    "severity",
    "title",
    "vendor",
    "user",
    "path",
    "pointer",
    "line",
    "value_hash",
    "evidence",
)
MCP_COLUMNS = (
    "id",
    "user",
    "client",
    "scope",
    "server",
    "transport",
    "command",
    "url",
    "host",
    "service",
    "inline_secret",
    "enabled",
    "path",
)


def finding_row(f: Finding) -> dict[str, str]:
    loc = f.location
    return {
        "id": f.id,
        "detector": f.detector.value,
        "kind": f.kind.value,
        "source": f.source.value,
        "severity": f.severity.value,
        "title": f.title,
        "vendor": f.vendor or "",
        "user": f.user or "",
        "path": loc.path if loc else "",
        "pointer": (loc.pointer or "") if loc else "",
        "line": str(loc.line or "") if loc else "",
        "value_hash": f.value_hash or "",
        "evidence": json.dumps(f.evidence, sort_keys=True),
    }


def mcp_row(f: Finding) -> dict[str, str]:
    ev = f.evidence

    def pick(key: str) -> str:
        return "" if ev.get(key) is None else str(ev.get(key))

    return {
        "id": f.id,
        "user": f.user or "",
        "client": pick("client"),
        "scope": pick("scope"),
        "server": pick("server"),
        "transport": pick("transport"),
        "command": pick("command"),
        "url": pick("url"),
        "host": pick("host"),
        "service": pick("service"),
        "inline_secret": "1" if ev.get("inline_secret") else "0",
        "enabled": "1" if ev.get("enabled", True) else "0",
        "path": f.location.path if f.location else "",
    }


TABLES: dict[str, tuple[tuple[str, ...], Callable[[Report], list[dict[str, str]]]]] = {
    "shadowmap_findings": (FINDING_COLUMNS, lambda r: [finding_row(f) for f in r.findings]),
    "shadowmap_mcp_servers": (
        MCP_COLUMNS,
        lambda r: [mcp_row(f) for f in r.findings if f.kind is FindingKind.MCP_SERVER],
    ),
}


def routes(columns: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"id": "column", "name": c, "type": "TEXT", "op": "0"} for c in columns]


@dataclass
class Handler:
    """The Extension service osquery calls: ping, call (table actions), shutdown."""

    scan: Callable[[], Report]
    cached: tuple[float, Report] | None = None
    stopping: bool = field(default=False)

    def _report(self) -> Report:
        now = time.monotonic()
        if self.cached is None or now - self.cached[0] > CACHE_SECONDS:
            self.cached = (now, self.scan())
        return self.cached[1]

    def ping(self) -> Any:
        from osquery.extensions.ttypes import ExtensionStatus

        return ExtensionStatus(code=0, message="OK")

    def call(self, registry: str, item: str, request: dict[str, str]) -> Any:
        from osquery.extensions.ttypes import ExtensionResponse, ExtensionStatus

        if registry != "table" or item not in TABLES:
            return ExtensionResponse(ExtensionStatus(code=1, message=f"no table {item}"), [])
        columns, rows = TABLES[item]
        action = request.get("action")
        if action == "columns":
            return ExtensionResponse(ExtensionStatus(code=0, message="OK"), routes(columns))
        if action == "generate":
            return ExtensionResponse(ExtensionStatus(code=0, message="OK"), rows(self._report()))
        return ExtensionResponse(ExtensionStatus(code=1, message="unknown action"), [])

    def shutdown(self) -> None:
        self.stopping = True


def register(socket: str) -> int:
    """Register our tables with osquery's extension manager; the uuid it assigns."""
    from osquery.extension_client import ExtensionClient
    from osquery.extensions.ttypes import InternalExtensionInfo

    client = ExtensionClient(path=socket)
    if not client.open(timeout=3):
        raise ScanError(
            f"no osquery extension manager on {socket}",
            hint="start osqueryd with --extensions_socket, or pass --socket",
        )
    try:
        info = InternalExtensionInfo(
            name="shadowmap",
            version=__version__,
            sdk_version=SDK_VERSION,
            min_sdk_version=MIN_SDK_VERSION,
        )
        registry = {"table": {name: routes(cols) for name, (cols, _) in TABLES.items()}}
        status = client.extension_manager_client().registerExtension(info, registry)
    finally:
        client.close()
    if status.code != 0:
        raise ScanError(f"osquery refused the extension: {status.message}")
    return int(status.uuid)


def serve(socket: str, scan: Callable[[], Report], max_seconds: float | None = None) -> None:
    """Register, then answer osquery on `<socket>.<uuid>` until shut down (or max_seconds)."""
    from osquery.extensions.Extension import Processor
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    uuid = register(socket)
    handler = Handler(scan)
    server_socket = TSocket.TServerSocket(unix_socket=f"{socket}.{uuid}")
    server_socket.listen()
    server_socket.handle.settimeout(1.0)
    processor = Processor(handler)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    logger.info("osquery extension %s serving %s", uuid, ", ".join(TABLES))
    while not handler.stopping and (deadline is None or time.monotonic() < deadline):
        try:
            client = server_socket.accept()
        except (OSError, TTransport.TTransportException):
            continue
        transport = TTransport.TBufferedTransport(client)
        protocol = TBinaryProtocol.TBinaryProtocol(transport)
        try:
            while not handler.stopping:
                processor.process(protocol, protocol)
        except (TTransport.TTransportException, EOFError, OSError):
            pass
        finally:
            transport.close()
    server_socket.close()
