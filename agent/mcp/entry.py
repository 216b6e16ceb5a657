"""One MCP server entry, in any client's dialect, as evidence: what it runs or reaches,
how it authenticates, where its credentials live, and what makes it risky.

Values never pass through as they are: env and header values are reduced to names,
credential arguments to "…", and everything else goes through the secret engine's scrub.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urlsplit

from shadowmap.agent.mcp.launch import Launch, docker_risks, read_launch
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.signatures import MCPService

# The keys people write for a remote server's address (research/mcp-anchors.md 4).
URL_KEYS = ("url", "serverUrl", "httpUrl", "address", "uri", "endpoint")
# Declared transports and what they mean (the same section; goose's streamable_http).
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
    "websocket": "ws",
}
# goose's own extensions run inside goose, not as MCP processes (goose docs, extensions).
BUILTIN_TYPES = frozenset({"builtin", "platform", "frontend", "inline_python"})
# "${input:x}", "${env:X}", "${X}", "$X", "{env:X}" (opencode), "{{X}}" (Copilot CLI).
REFERENCE = re.compile(r"\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\{env:[^}]+\}|\{\{[^}]+\}\}")
INPUT_PROMPT = re.compile(r"\$\{input:[^}]+\}")
# References to a secret store rather than a value (1Password, Vault, cloud managers).
SECRET_STORE = re.compile(r"(?i)^(op://|vault:|awssm:|gcpsm:|azkv:|keyring:|keychain:)")
CREDENTIAL_NAME = re.compile(r"(?i)(key|token|secret|passw|auth|credential|cookie|session|pat\b)")
CREDENTIAL_FLAG = re.compile(r"(?i)^--?[a-z-]*(key|token|secret|password|auth)[a-z-]*$")
MIN_INLINE_LENGTH = 8
# A value that names a file or a URL points at a credential kept elsewhere.
PATH_LIKE = re.compile(r"^(?:[/~]|\.{1,2}/|[A-Za-z]:[\\/]|https?://|file://)")
PLACEHOLDER = re.compile(r"(?i)^(redacted|changeme|your[-_ ]|<[^>]*>|x{4,}|\*{3,}|todo|none|null)")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
# Flags that hand a browser automation server a person's real browser (research/
# signatures-facts.md section 6: Playwright MCP, chrome-devtools-mcp, browser-use).
REAL_BROWSER_FLAGS = (
    "--user-data-dir",
    "--userdatadir",
    "--extension",
    "--cdp-endpoint",
    "--storage-state",
    "--browserurl",
    "--browser-url",
    "--autoconnect",
    "--auto-connect",
    "--wsendpoint",
    "--cdp-url",
)
# Flags after which a filesystem server may reach everything (server-filesystem's roots).
BROAD_ROOTS = frozenset({"/", "~", "~/", "$HOME", "${HOME}", "C:\\", "C:/", "/Users", "/home"})


@dataclass(frozen=True)
class ServerSpec:
    """The fields every client's dialect comes down to."""

    transport: str
    command: str | None
    args: list[str]
    url: str | None
    env: dict[str, str]
    headers: dict[str, str]
    env_names: list[str] = field(default_factory=list)  # env vars named, values not given
    enabled: bool = True
    auto_approve: list[str] = field(default_factory=list)
    oauth: bool = False
    builtin: bool = False


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(value: Any) -> list[str]:
    """A list of strings from a list, a lone scalar, or nothing."""
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _command_and_args(entry: dict[str, Any]) -> tuple[str | None, list[str]]:
    command = entry.get("command", entry.get("cmd"))
    args = _texts(entry.get("args"))
    if isinstance(command, dict):  # Zed's older form: {"path", "args", "env"}
        args = _texts(command.get("args")) + args
        command = command.get("path")
    if isinstance(command, list):  # opencode: the whole command line as a list
        parts = [str(c) for c in command]
        return (parts[0] if parts else None), parts[1:] + args
    if isinstance(command, str) and " " in command.strip() and not args:
        try:
            parts = shlex.split(command)
        except ValueError:
            parts = command.split()
        return parts[0], parts[1:]
    return (str(command) if command else None), args


def _transport(declared: str, command: str | None, url: str | None, remote: str | None) -> str:
    if declared in TRANSPORTS:
        return TRANSPORTS[declared]
    if url and remote:
        return remote
    if url:
        path = urlsplit(url).path.rstrip("/")
        return "sse" if path.endswith("/sse") else "ws" if url.startswith("ws") else "http"
    return "stdio" if command else "unknown"


def normalize(entry: dict[str, Any], remote_transport: str | None = None) -> ServerSpec:
    """Any client's server entry as one ServerSpec; ``remote_transport`` is what the client
    speaks to a URL entry that declares no type."""
    legacy = entry.get("transport")
    if isinstance(legacy, dict):  # Continue's legacy {"transport": {"type", "command"...}}
        entry = {**entry, **legacy}
    declared = str(entry.get("type") or (legacy if isinstance(legacy, str) else "") or "")
    command, args = _command_and_args(entry)
    url = next(
        (str(entry[k]) for k in URL_KEYS if isinstance(entry.get(k), str) and entry[k]), None
    )
    env = _strings(entry.get("env") or entry.get("environment") or entry.get("envs"))
    headers = _strings(entry.get("headers") or entry.get("http_headers"))
    headers.update(_strings(_mapping(entry.get("requestInit")).get("headers")))
    env_names = _texts(entry.get("env_vars"))
    env_names += list(_strings(entry.get("env_http_headers")).values())
    env_names += _texts(entry.get("bearer_token_env_var"))
    approve = entry.get("alwaysAllow") or entry.get("autoApprove") or entry.get("auto_approve")
    approved = _texts(approve) if isinstance(approve, list) else []
    if entry.get("trust") is True:  # Gemini CLI: every tool call without confirmation
        approved = ["*"]
    return ServerSpec(
        transport=_transport(declared.lower(), command, url, remote_transport),
        command=command,
        args=args,
        url=url,
        env=env,
        headers=headers,
        env_names=env_names,
        enabled=not (entry.get("disabled") is True or entry.get("enabled") is False),
        auto_approve=approved,
        oauth=bool(entry.get("oauth")) or "auth_provider_type" in entry,
        builtin=declared.lower() in BUILTIN_TYPES,
    )


def _is_literal(value: str) -> bool:
    """A credential written out in the file, not a reference to one kept elsewhere."""
    bare = REFERENCE.sub("", value).replace("Bearer", "").replace("Basic", "").strip()
    if PATH_LIKE.match(bare) or SECRET_STORE.match(bare) or PLACEHOLDER.match(bare):
        return False
    return len(bare) >= MIN_INLINE_LENGTH


def _storage(value: str) -> str:
    if _is_literal(value):
        return "inline"
    if INPUT_PROMPT.search(value):
        return "input_prompt"
    if SECRET_STORE.match(value.strip()):
        return "secret_manager"
    if PATH_LIKE.match(REFERENCE.sub("", value).strip()):
        return "file"
    return "env_reference" if REFERENCE.search(value) else "empty"


@dataclass(frozen=True)
class Credential:
    name: str
    where: str  # env, header, arg, url
    storage: str  # inline, env_reference, input_prompt, secret_manager, file, empty
    value: str  # in memory only: the caller turns inline ones into secret findings

    def public(self) -> dict[str, str]:
        return {"name": self.name, "where": self.where, "storage": self.storage}


def credentials(spec: ServerSpec) -> list[Credential]:
    found = [
        Credential(name, where, _storage(value), value)
        for where, mapping in (("env", spec.env), ("header", spec.headers))
        for name, value in mapping.items()
        if CREDENTIAL_NAME.search(name) or _storage(value) in ("input_prompt", "secret_manager")
    ]
    found += [Credential(n, "env", "env_reference", "") for n in spec.env_names]
    for flag, value in zip(spec.args, spec.args[1:], strict=False):
        if CREDENTIAL_FLAG.match(flag):
            found.append(Credential(flag, "arg", _storage(value), value))
    for arg in spec.args:
        name, sep, value = arg.partition("=")
        if sep and CREDENTIAL_NAME.search(name) and not name.startswith("-"):
            found.append(Credential(name, "arg", _storage(value), value))
    return found


def _auth(spec: ServerSpec, creds: list[Credential]) -> str:
    storages = {c.storage for c in creds}
    if "input_prompt" in storages:
        return "input_prompt"
    if any(c.where == "header" for c in creds):
        return "static_header" if "inline" in storages else "header_reference"
    if creds:
        return "env_secret" if any(c.storage != "empty" for c in creds) else "none"
    if spec.oauth or (spec.url and spec.transport in ("http", "sse", "ws")):
        return "oauth_or_none"  # remote servers without a static credential use OAuth
    return "none"


def match_service(
    services: tuple[MCPService, ...], launch: Launch, spec: ServerSpec
) -> MCPService | None:
    host = (urlsplit(spec.url).hostname or "").lower() if spec.url else ""
    path = urlsplit(spec.url).path if spec.url else ""
    names = [n for n in (launch.package, launch.binary) if n]
    for service in services:
        if any(fnmatch(n, pattern) for n in names for pattern in service.packages):
            return service
        if host and any(host == h or host.endswith("." + h) for h in service.hosts):
            return service
        if path and any(path.startswith(p) for p in service.paths):
            return service
    return None


def _risks(spec: ServerSpec, launch: Launch, service: MCPService | None, inline: bool) -> list[str]:
    lowered = [a.lower() for a in spec.args]
    host = (urlsplit(spec.url).hostname or "") if spec.url else ""
    reaches = service.reaches if service else ""
    flags = {
        "inline_secret": inline,
        "unpinned_package": launch.pinned is False,
        "plain_http_remote": bool(spec.url and spec.url.startswith("http://"))
        and host not in LOOPBACK_HOSTS,
        "broad_filesystem": reaches == "filesystem" and bool(BROAD_ROOTS & set(spec.args)),
        "code_execution": reaches == "code_execution" or launch.shell,
        "browser_automation": reaches == "browser",
        "real_browser_profile": any(a.split("=")[0] in REAL_BROWSER_FLAGS for a in lowered),
        "auto_approved_tools": bool(spec.auto_approve),
    }
    risks = [name for name, on in flags.items() if on]
    return risks + docker_risks(launch)


class EntryReader:
    """Turns one raw server entry into evidence and the inline credentials it holds."""

    def __init__(self, engine: SecretEngine, services: tuple[MCPService, ...]) -> None:
        self.engine = engine
        self.services = services

    def read(self, spec: ServerSpec) -> tuple[dict[str, Any], list[Credential]]:
        launch = read_launch(spec.command, spec.args)
        creds = credentials(spec)
        values = [*spec.env.values(), *spec.headers.values(), *spec.args, spec.url or ""]
        kinds = sorted({m.signature.id for v in values for m in self.engine.find(v)})
        inline = bool(kinds) or any(c.storage == "inline" for c in creds)
        service = match_service(self.services, launch, spec)
        host = urlsplit(spec.url).hostname if spec.url else None
        refs = {r for v in values for r in REFERENCE.findall(v)} | set(spec.env_names)
        evidence = {
            "transport": spec.transport,
            "command": spec.command,
            "args": self._safe_args(spec.args),
            "url": self.engine.scrub(spec.url) if spec.url else None,
            "host": host,
            "remote": bool(host) and host not in LOOPBACK_HOSTS,
            "launcher": launch.launcher,
            "package": launch.package,
            "version": launch.version,
            "pinned": launch.pinned,
            "service": service.id if service else None,
            "service_name": service.name if service else None,
            "reaches": service.reaches if service else None,
            "env": sorted(spec.env),
            "headers": sorted(spec.headers),
            "env_refs": sorted(refs),
            "auth": _auth(spec, creds),
            "credentials": [c.public() for c in creds],
            "inline_secret": inline,
            "secret_kinds": kinds,
            "auto_approved_tools": spec.auto_approve,
            "risks": _risks(spec, launch, service, inline),
            "enabled": spec.enabled,
        }
        return evidence, [c for c in creds if c.storage == "inline"]

    def _safe_args(self, args: list[str]) -> list[str]:
        safe: list[str] = []
        for index, arg in enumerate(args):
            previous = args[index - 1] if index else ""
            name, sep, value = arg.partition("=")
            if CREDENTIAL_FLAG.match(previous) and _is_literal(arg):
                safe.append("…")
            elif sep and CREDENTIAL_NAME.search(name) and _is_literal(value):
                safe.append(f"{name}=…")
            else:
                safe.append(self.engine.scrub(arg))
        return safe
