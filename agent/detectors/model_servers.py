"""Local model servers (listening sockets, confirmed by a probe on loopback only) and the
model weights kept in the usual caches (counted and sized).

A probe is one bounded GET to 127.0.0.1 or ::1; nothing else is ever contacted.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.request import Request, urlopen

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import Detector, DetectorOutput
from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    Location,
    Severity,
    SourceId,
    finding_id,
)
from shadowmap.agent.sources import sockets
from shadowmap.signatures import ModelCache, ModelServer

logger = logging.getLogger(__name__)

# A probe waits this long (seconds) and reads at most this much.
PROBE_TIMEOUT = 0.8
PROBE_MAX_BYTES = 256 * 1024
# A cache walk stops after this many entries, so a huge cache cannot stall a scan.
MAX_CACHE_ENTRIES = 200_000
MAX_LISTED = 10
AAM_INVENTORY = ["AAM-1.1", "AAM-1.5"]


@dataclass(frozen=True)
class Confirmed:
    server: ModelServer
    listener: sockets.Listener
    models: int | None  # how many models the server says it has


def _bound_beyond_loopback(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return True


def _probe_host(address: str) -> str | None:
    """Where a probe may go for a socket: its loopback address, never anything else."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    if ip.is_loopback:
        return f"[{ip}]" if ip.version == 6 else str(ip)
    if ip.is_unspecified:  # 0.0.0.0 or :: also answers on loopback
        return "[::1]" if ip.version == 6 else "127.0.0.1"
    return None


def probe(host: str, port: int, server: ModelServer) -> int | None:
    """How many models the answer lists, or None when it is not that server's answer."""
    request = Request(
        f"http://{host}:{port}{server.probe_path}", headers={"Accept": "application/json"}
    )
    try:
        with urlopen(request, timeout=PROBE_TIMEOUT) as response:  # noqa: S310 - loopback only
            body = json.loads(response.read(PROBE_MAX_BYTES))
    except (OSError, ValueError):
        return None
    value = body.get(server.probe_expect) if isinstance(body, dict) else None
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):  # Open WebUI's features map
        return 0
    return None


def _candidates(servers: tuple[ModelServer, ...], listener: sockets.Listener) -> list[ModelServer]:
    names = {listener.process.lower(), PurePath(listener.exe).name.lower()} - {""}
    line = " ".join(listener.cmdline)
    by_process = [
        s
        for s in servers
        if names & {p.lower() for p in s.processes} or any(m in line for m in s.cmdline)
    ]
    by_port = [s for s in servers if listener.port in s.ports and s not in by_process]
    return by_process + by_port


def confirm(servers: tuple[ModelServer, ...], listener: sockets.Listener) -> Confirmed | None:
    host = _probe_host(listener.address)
    if host is None:
        return None
    for server in _candidates(servers, listener):
        models = probe(host, listener.port, server)
        if models is not None:
            return Confirmed(server, listener, models)
    return None


def _cache_size(root: Path) -> tuple[int, int, list[Path]]:
    """(files, bytes, every file) under a folder, bounded by MAX_CACHE_ENTRIES."""
    files, total, seen = 0, 0, []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = Path(folder) / name
            try:
                total += path.stat().st_size
            except OSError:
                continue
            files += 1
            seen.append(path)
            if files >= MAX_CACHE_ENTRIES:
                return files, total, seen
    return files, total, seen


def cache_models(cache: ModelCache, root: Path, suffixes: tuple[str, ...]) -> list[str]:
    """The models a cache holds, by its layout (Ollama manifests, HF hub folders, files)."""
    if cache.layout == "ollama":
        manifests = root / "manifests"
        return (
            sorted(f"{p.parent.name}:{p.name}" for p in manifests.rglob("*") if p.is_file())
            if manifests.is_dir()
            else []
        )
    if cache.layout == "huggingface":
        return sorted(
            p.name.removeprefix("models--").replace("--", "/")
            for p in root.iterdir()
            if p.is_dir() and p.name.startswith("models--")
        )
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes
    )


class ModelServersDetector(Detector):
    id = DetectorId.MODEL_SERVERS
    sources = (SourceId.MODEL_SERVERS, SourceId.MODEL_FILES)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        if SourceId.MODEL_SERVERS in sources and ctx.live:
            servers = ctx.signatures.models.servers
            for listener in sockets.listening():
                confirmed = confirm(servers, listener)
                if confirmed:
                    out.findings.append(self._server_finding(confirmed))
        if SourceId.MODEL_FILES in sources:
            for cache in ctx.signatures.models.caches:
                for pattern in cache.paths.for_os(ctx.os.value):
                    for root in ctx.expand(pattern):
                        finding = self._cache_finding(ctx, cache, root)
                        if finding:
                            out.findings.append(finding)
        return out

    def _server_finding(self, found: Confirmed) -> Finding:
        listener, server = found.listener, found.server
        exposed = _bound_beyond_loopback(listener.address)
        return Finding(
            id=finding_id(
                self.id, FindingKind.MODEL_SERVER, server.id, str(listener.port), listener.address
            ),
            detector=self.id,
            kind=FindingKind.MODEL_SERVER,
            source=SourceId.MODEL_SERVERS,
            title=f"{server.name} listening on {listener.address}:{listener.port}"
            + (" (beyond loopback)" if exposed else ""),
            severity=Severity.HIGH if exposed else Severity.LOW,
            vendor=server.vendor,
            user=listener.username or None,
            aam_controls=AAM_INVENTORY + (["AAM-4.1"] if exposed else []),
            evidence={
                "server": server.id,
                "name": server.name,
                "address": listener.address,
                "port": listener.port,
                "beyond_loopback": exposed,
                "pid": listener.pid,
                "process": listener.process,
                "executable": listener.exe,
                "models": found.models,
                "via": listener.via,
            },
        )

    def _cache_finding(self, ctx: ScanContext, cache: ModelCache, root: Path) -> Finding | None:
        models = cache_models(cache, root, ctx.signatures.models.suffixes)
        if not models:
            return None
        files, total, _ = _cache_size(root)
        shown = ctx.display(root)
        return Finding(
            id=finding_id(self.id, FindingKind.MODEL_FILES, cache.id, shown),
            detector=self.id,
            kind=FindingKind.MODEL_FILES,
            source=SourceId.MODEL_FILES,
            title=f"{len(models)} models in the {cache.name} cache",
            severity=Severity.INFO,
            vendor=cache.vendor,
            user=ctx.user,
            location=Location(path=shown),
            aam_controls=AAM_INVENTORY,
            evidence={
                "cache": cache.id,
                "models": len(models),
                "names": models[:MAX_LISTED],
                "files": files,
                "bytes": total,
            },
        )
