"""MCP servers in the clients' configuration files: what each runs or reaches, and with what.

Every server is parsed on its own; a bad file or entry is a warning and the rest count.
Values are never copied into evidence as they are: env and header values are reduced
to their names, and everything else passes through the secret engine's scrub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import json5
import yaml

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
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.agent.sources.filesystem import read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.signatures import ConfigLocation, MCPClient

logger = logging.getLogger(__name__)

# The keys people write for a remote server's address (research/mcp-anchors.md section 4).
URL_KEYS = ("url", "serverUrl", "httpUrl", "address")
# Declared transports and what they mean (the same section).
TRANSPORTS = {
    "stdio": "stdio",
    "local": "stdio",
    "sse": "sse",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "remote": "http",
    "ws": "ws",
}
# "${input:x}", "${env:X}", "${X}", "$X", "{env:X}" (opencode): a reference, not a value.
REFERENCE = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\{env:[^}]+\}")
# Names under which a literal value is a credential even when no pattern knows its shape.
CREDENTIAL_NAME = re.compile(r"(?i)(key|token|secret|passw|auth|credential|cookie|session)")
# Command-line flags whose next argument is a credential.
CREDENTIAL_FLAG = re.compile(r"(?i)^--?[a-z-]*(key|token|secret|password|auth)[a-z-]*$")
MIN_INLINE_LENGTH = 8
# A value that names a file ("/...", "~/...", "./...", "C:\\...") points at a credential
# kept elsewhere; it is not the credential.
PATH_LIKE = re.compile(r"^(?:[/~]|\.{1,2}/|[A-Za-z]:[\\/]|https?://)")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})


@dataclass(frozen=True)
class ConfigFile:
    client: MCPClient
    location: ConfigLocation
    path: Path


def config_files(ctx: ScanContext) -> list[ConfigFile]:
    """Every MCP config file on the machine that a client of the signatures reads."""
    projects = ctx.project_dirs
    found: list[ConfigFile] = []
    seen: set[tuple[str, Path]] = set()
    for client in ctx.signatures.mcp_clients:
        for location in client.configs:
            for path in _paths_for(ctx, location, projects):
                if (client.id, path) not in seen:
                    seen.add((client.id, path))
                    found.append(ConfigFile(client, location, path))
    return found


def _paths_for(ctx: ScanContext, location: ConfigLocation, projects: list[Path]) -> list[Path]:
    patterns = location.paths.for_os(ctx.os.value)
    if location.scope != "project":
        return [p for pattern in patterns for p in ctx.expand(pattern) if p.is_file()]
    return [d / rel for d in projects for rel in patterns if (d / rel).is_file()]


def parse_document(text: str, fmt: str) -> Any:
    """A config file's data; empty and comment-only files are an empty mapping."""
    if fmt in ("json", "jsonc"):
        stripped = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S).strip()
        return json5.loads(text) if stripped else {}
    if fmt == "toml":
        return tomllib.loads(text)
    return yaml.safe_load(text) or {}


def server_maps(data: Any, servers_at: tuple[str, ...]) -> Iterator[tuple[list[str], Any]]:
    """(pointer parts, server map) for every place the signature says servers sit."""
    for spec in servers_at:
        yield from _walk(data, spec.split("/"), [])


def _walk(node: Any, keys: list[str], trail: list[str]) -> Iterator[tuple[list[str], Any]]:
    if not keys:
        yield trail, node
        return
    if not isinstance(node, dict):
        return
    head, rest = keys[0], keys[1:]
    names = [k for k in node if isinstance(k, str)] if head == "*" else [head]
    for name in names:
        if name in node:
            yield from _walk(node[name], rest, [*trail, name])


def _entries(server_map: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(server_map, dict):
        yield from ((str(k), v) for k, v in server_map.items())
    elif isinstance(server_map, list):  # Continue's list of {name, ...}
        for index, item in enumerate(server_map):
            name = item.get("name") if isinstance(item, dict) else None
            yield (str(name) if name else f"#{index}"), item


def pointer(parts: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _command_and_args(entry: dict[str, Any]) -> tuple[str | None, list[str]]:
    command = entry.get("command")
    args = entry.get("args") or []
    if not isinstance(args, list):
        args = [args]
    args = [str(a) for a in args]
    if isinstance(command, list):  # opencode: the whole command line as a list
        parts = [str(c) for c in command]
        return (parts[0] if parts else None), parts[1:] + args
    if isinstance(command, str) and " " in command.strip() and not args:
        try:
            parts = shlex.split(command)
        except ValueError:
            parts = command.split()
        return parts[0], parts[1:]
    return (str(command) if command is not None else None), args


def _transport(entry: dict[str, Any], command: str | None, url: str | None) -> str:
    declared = str(entry.get("type") or entry.get("transport") or "").lower()
    if declared in TRANSPORTS:
        return TRANSPORTS[declared]
    if url:
        return "sse" if urlsplit(url).path.rstrip("/").endswith("/sse") else "http"
    return "stdio" if command else "unknown"


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


class ServerReader:
    """Turns one raw server entry into evidence, with credentials reduced to names."""

    def __init__(self, engine: SecretEngine) -> None:
        self.engine = engine

    def evidence(self, entry: dict[str, Any]) -> dict[str, Any]:
        command, args = _command_and_args(entry)
        url = next((str(entry[k]) for k in URL_KEYS if entry.get(k)), None)
        env = _string_map(entry.get("env") or entry.get("environment") or entry.get("envs"))
        headers = _string_map(entry.get("headers") or entry.get("http_headers"))
        values = [*env.values(), *headers.values(), *args, url or ""]
        kinds = sorted({m.signature.id for v in values for m in self.engine.find(v)})
        inline = bool(kinds) or self._named_inline(env) or self._named_inline(headers)
        inline = inline or self._flag_inline(args)
        return {
            "transport": _transport(entry, command, url),
            "command": command,
            "args": self._safe_args(args),
            "url": self.engine.scrub(url) if url else None,
            "host": urlsplit(url).hostname if url else None,
            "env": sorted(env),
            "headers": sorted(headers),
            "env_refs": sorted({r for v in values for r in REFERENCE.findall(v)}),
            "inline_secret": inline,
            "secret_kinds": kinds,
            "enabled": _enabled(entry),
        }

    def _named_inline(self, mapping: dict[str, str]) -> bool:
        return any(
            CREDENTIAL_NAME.search(name) and _literal(value) for name, value in mapping.items()
        )

    @staticmethod
    def _flag_inline(args: list[str]) -> bool:
        pairs = zip(args, args[1:], strict=False)
        return any(CREDENTIAL_FLAG.match(flag) and _literal(value) for flag, value in pairs)

    def _safe_args(self, args: list[str]) -> list[str]:
        safe: list[str] = []
        for index, arg in enumerate(args):
            previous = args[index - 1] if index else ""
            if CREDENTIAL_FLAG.match(previous) and _literal(arg):
                safe.append("…")
            elif "=" in arg and CREDENTIAL_NAME.search(arg.split("=", 1)[0]):
                name, value = arg.split("=", 1)
                safe.append(f"{name}=…" if _literal(value) else arg)
            else:
                safe.append(self.engine.scrub(arg))
        return safe


def _literal(value: str) -> bool:
    """A value written out in the file, not a reference to one kept elsewhere (an env
    variable, an input prompt, or a path to a credentials file)."""
    bare = REFERENCE.sub("", value).replace("Bearer", "").strip()
    if PATH_LIKE.match(bare):
        return False
    return len(bare) >= MIN_INLINE_LENGTH


def _enabled(entry: dict[str, Any]) -> bool:
    if entry.get("disabled") is True or entry.get("enabled") is False:
        return False
    return True


def definition_hash(evidence: dict[str, Any]) -> str:
    material = {k: evidence[k] for k in ("transport", "command", "args", "url", "env")}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8"))
    return f"sha256:{digest.hexdigest()}"


def _severity(evidence: dict[str, Any]) -> Severity:
    if evidence["inline_secret"]:
        return Severity.HIGH
    host = evidence["host"]
    url = evidence["url"] or ""
    if url.startswith("http://") and host and host not in LOOPBACK_HOSTS:
        return Severity.MEDIUM
    return Severity.LOW


class MCPDetector(Detector):
    id = DetectorId.MCP
    sources = (SourceId.MCP,)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        reader = ServerReader(SecretEngine(ctx.signatures))
        for config in config_files(ctx):
            out.extend(self._read_file(ctx, reader, config))
        return out

    def _read_file(self, ctx: ScanContext, reader: ServerReader, cfg: ConfigFile) -> DetectorOutput:
        out = DetectorOutput()
        shown = ctx.display(cfg.path)
        try:
            data = parse_document(read_text(cfg.path), cfg.location.format)
        except Unreadable as exc:
            out.warn(SourceId.MCP, f"{cfg.client.name} config not read: {exc.reason}", shown)
            return out
        except (ValueError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
            message = str(exc).splitlines()[0][:200]
            out.warn(SourceId.MCP, f"{cfg.client.name} config is malformed: {message}", shown)
            return out
        for trail, server_map in server_maps(data, cfg.location.servers_at):
            for name, entry in _entries(server_map):
                where = pointer([*trail, name])
                if not isinstance(entry, dict):
                    out.warn(SourceId.MCP, f"server {name!r} is not an object; skipped", shown)
                    continue
                out.findings.append(self._finding(ctx, reader, cfg, shown, where, name, entry))
        return out

    def _finding(
        self,
        ctx: ScanContext,
        reader: ServerReader,
        cfg: ConfigFile,
        shown: str,
        where: str,
        name: str,
        entry: dict[str, Any],
    ) -> Finding:
        evidence = {
            "client": cfg.client.id,
            "client_name": cfg.client.name,
            "client_vendor": cfg.client.vendor,
            "scope": cfg.location.scope,
            "server": name,
            **reader.evidence(entry),
        }
        controls = ["AAM-1.1", "AAM-1.4"] + (["AAM-3.3"] if evidence["inline_secret"] else [])
        return Finding(
            id=finding_id(self.id, FindingKind.MCP_SERVER, cfg.client.id, shown, where),
            detector=self.id,
            kind=FindingKind.MCP_SERVER,
            source=SourceId.MCP,
            title=f"MCP server {name} in {cfg.client.name} ({cfg.location.scope})",
            severity=_severity(evidence),
            vendor=None,
            user=ctx.user,
            location=Location(path=shown, pointer=where),
            aam_controls=controls,
            evidence=evidence,
            definition_hash=definition_hash(evidence),
        )
