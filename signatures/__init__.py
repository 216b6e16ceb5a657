"""Signatures: what AI looks like, as data. Loads the YAML files and checks them.

Every file is validated against its JSON Schema in schema/ when loaded; a pack that
fails raises SignatureError and is never half used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from shadowmap.agent.errors import SignatureError

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent
# The files a pack is made of, each with a schema of the same stem in schema/.
PACK_FILES = (
    "vendors",
    "apps",
    "mcp_clients",
    "mcp_services",
    "extensions",
    "model_servers",
    "browser_session",
    "secrets",
)
OS_KEYS = ("linux", "macos", "windows")
# libyaml's safe loader where PyYAML was built with it (ten times faster than Python's).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    domains: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class PerOSPaths:
    by_os: dict[str, tuple[str, ...]]

    def for_os(self, os_name: str) -> tuple[str, ...]:
        return self.by_os.get("all", ()) + self.by_os.get(os_name, ())


@dataclass(frozen=True)
class AppSignature:
    id: str
    name: str
    vendor: str
    kind: str
    source: str
    install: PerOSPaths
    config: PerOSPaths
    executables: tuple[str, ...]
    processes: tuple[str, ...]
    bundle_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    desktop_ids: tuple[str, ...] = ()
    flatpak_ids: tuple[str, ...] = ()
    snap_names: tuple[str, ...] = ()
    credential_files: PerOSPaths = field(default_factory=lambda: PerOSPaths({}))
    risky_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigLocation:
    scope: str
    format: str
    servers_at: tuple[str, ...]
    paths: PerOSPaths
    plugin: bool = False
    approval: str | None = None  # how the client decides a project server is on
    remote_transport: str | None = None  # what an untyped URL entry speaks


@dataclass(frozen=True)
class ProjectList:
    """A file where a client records the projects it has opened."""

    path: str
    format: str
    keys_at: str | None = None  # the projects are the keys of the map at this path
    value_at: str | None = None  # the project is the value (a path or file:// URI) here


@dataclass(frozen=True)
class MCPClient:
    id: str
    name: str
    vendor: str
    source: str
    configs: tuple[ConfigLocation, ...]
    project_lists: tuple[ProjectList, ...] = ()


@dataclass(frozen=True)
class MCPService:
    """A service an MCP server reaches, known by package, image, binary or host."""

    id: str
    name: str
    vendor: str | None
    reaches: str
    packages: tuple[str, ...]
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class SecretSignature:
    id: str
    name: str
    vendor: str
    pattern: str
    keywords: tuple[str, ...]
    prefixes: tuple[str, ...]
    severity: str
    source: str

    def public_prefix(self, value: str) -> str | None:
        return next((p for p in self.prefixes if value.startswith(p)), None)


@dataclass(frozen=True)
class KnownExtension:
    id: str  # compared without case
    name: str
    vendor: str
    source: str


@dataclass(frozen=True)
class ExtensionDir:
    editor: str
    name: str
    paths: PerOSPaths


@dataclass(frozen=True)
class Browser:
    id: str
    name: str
    paths: PerOSPaths  # user-data roots (Chromium) or the profiles folder (Firefox)
    firefox: bool = False


@dataclass(frozen=True)
class ExtensionSignatures:
    ide_dirs: tuple[ExtensionDir, ...]
    jetbrains_dirs: PerOSPaths
    ide: dict[str, KnownExtension]
    jetbrains: dict[str, KnownExtension]
    browsers: tuple[Browser, ...]
    browser: dict[str, KnownExtension]
    risky_permissions: frozenset[str]
    ai_words: tuple[str, ...]


@dataclass(frozen=True)
class ModelServer:
    id: str
    name: str
    vendor: str
    ports: tuple[int, ...]
    processes: tuple[str, ...]
    cmdline: tuple[str, ...]
    probe_path: str
    probe_expect: str  # a JSON key the answer must hold, with a list
    source: str


@dataclass(frozen=True)
class ModelCache:
    id: str
    name: str
    vendor: str
    layout: str  # ollama, huggingface, files
    paths: PerOSPaths


@dataclass(frozen=True)
class ModelSignatures:
    servers: tuple[ModelServer, ...]
    caches: tuple[ModelCache, ...]
    suffixes: tuple[str, ...]


@dataclass(frozen=True)
class AutomationFlag:
    """A flag or env variable that points automation at a person's browser session."""

    name: str
    value: str  # real_profile, any, none
    means: str


@dataclass(frozen=True)
class SessionToken:
    id: str
    name: str
    vendor: str
    pattern: re.Pattern[str]
    group: int
    keywords: tuple[str, ...]
    prefix: str | None


@dataclass(frozen=True)
class NamedPattern:
    id: str
    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()  # lower-case; the pattern runs only where one is found


@dataclass(frozen=True)
class BrowserSessionSignatures:
    flags: tuple[AutomationFlag, ...]
    env: tuple[AutomationFlag, ...]
    agent_configs: tuple[tuple[str, tuple[str, ...]], ...]
    debug_flags: tuple[str, ...]
    browser_processes: frozenset[str]
    sensitive_files: frozenset[str]
    session_tokens: tuple[SessionToken, ...]
    cookie_libraries: tuple[NamedPattern, ...]
    cookie_file_header: re.Pattern[str]
    code_suffixes: tuple[str, ...]


@dataclass(frozen=True)
class SignaturePack:
    version: str
    vendors: dict[str, Vendor]
    apps: tuple[AppSignature, ...]
    mcp_clients: tuple[MCPClient, ...]
    mcp_services: tuple[MCPService, ...]
    secrets: tuple[SecretSignature, ...]
    extensions: ExtensionSignatures
    models: ModelSignatures
    browser_session: BrowserSessionSignatures
    files: tuple[str, ...] = field(default=())

    def vendor_name(self, vendor_id: str | None) -> str | None:
        vendor = self.vendors.get(vendor_id or "")
        return vendor.name if vendor else None


def _registry() -> Registry:
    common = json.loads((BUILTIN_DIR / "schema" / "common.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource("common.json", Resource.from_contents(common))
    return registry


def _read_validated(directory: Path, stem: str, registry: Registry) -> dict[str, Any]:
    path = directory / f"{stem}.yaml"
    schema = json.loads((BUILTIN_DIR / "schema" / f"{stem}.json").read_text(encoding="utf-8"))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise SignatureError(f"{path}: cannot be read as YAML: {exc}") from exc
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise SignatureError(f"{path}: {where}: {first.message}")
    return data  # type: ignore[no-any-return]


def _paths(raw: dict[str, list[str]] | None) -> PerOSPaths:
    return PerOSPaths({key: tuple(value) for key, value in (raw or {}).items()})


def _app(raw: dict[str, Any]) -> AppSignature:
    return AppSignature(
        id=raw["id"],
        name=raw["name"],
        vendor=raw["vendor"],
        kind=raw["kind"],
        source=raw["source"],
        install=_paths(raw.get("install")),
        config=_paths(raw.get("config")),
        executables=tuple(raw.get("executables", ())),
        processes=tuple(raw.get("processes", ())),
        bundle_ids=tuple(raw.get("bundle_ids", ())),
        team_ids=tuple(raw.get("team_ids", ())),
        desktop_ids=tuple(raw.get("desktop_ids", ())),
        flatpak_ids=tuple(raw.get("flatpak_ids", ())),
        snap_names=tuple(raw.get("snap_names", ())),
        credential_files=_paths(raw.get("credential_files")),
        risky_flags=tuple(raw.get("risky_flags", ())),
    )


def _client(raw: dict[str, Any]) -> MCPClient:
    configs = tuple(
        ConfigLocation(
            scope=c["scope"],
            format=c["format"],
            servers_at=tuple(c["servers_at"]),
            paths=_paths(c["paths"]),
            plugin=c.get("plugin", False),
            approval=c.get("approval"),
            remote_transport=c.get("remote_transport"),
        )
        for c in raw["configs"]
    )
    lists = tuple(ProjectList(**p) for p in raw.get("project_lists", ()))
    return MCPClient(raw["id"], raw["name"], raw["vendor"], raw["source"], configs, lists)


def _service(raw: dict[str, Any]) -> MCPService:
    return MCPService(
        id=raw["id"],
        name=raw["name"],
        vendor=raw["vendor"] or None,
        reaches=raw["reaches"],
        packages=tuple(raw["packages"]),
        hosts=tuple(raw["hosts"]),
        paths=tuple(raw.get("paths", ())),
        source=raw["source"],
    )


def _known(items: list[dict[str, Any]]) -> dict[str, KnownExtension]:
    return {
        i["id"].lower(): KnownExtension(i["id"].lower(), i["name"], i["vendor"], i["source"])
        for i in items
    }


def _extensions(raw: dict[str, Any]) -> ExtensionSignatures:
    return ExtensionSignatures(
        ide_dirs=tuple(
            ExtensionDir(d["editor"], d["name"], _paths(d["paths"])) for d in raw["ide_dirs"]
        ),
        jetbrains_dirs=_paths(raw["jetbrains_dirs"]["paths"]),
        ide=_known(raw["ide_extensions"]),
        jetbrains=_known(raw["jetbrains_plugins"]),
        browsers=tuple(
            Browser(b["id"], b["name"], _paths(b["paths"]), b.get("firefox", False))
            for b in raw["browsers"]
        ),
        browser=_known(raw["browser_extensions"]),
        risky_permissions=frozenset(raw["risky_permissions"]),
        ai_words=tuple(w.lower() for w in raw["ai_words"]),
    )


def _models(raw: dict[str, Any]) -> ModelSignatures:
    servers = tuple(
        ModelServer(
            id=m["id"],
            name=m["name"],
            vendor=m["vendor"],
            ports=tuple(m["ports"]),
            processes=tuple(m["processes"]),
            cmdline=tuple(m.get("cmdline", ())),
            probe_path=m["probe"]["path"],
            probe_expect=m["probe"]["expect"],
            source=m["source"],
        )
        for m in raw["servers"]
    )
    caches = tuple(
        ModelCache(c["id"], c["name"], c["vendor"], c["layout"], _paths(c["paths"]))
        for c in raw["caches"]
    )
    return ModelSignatures(servers, caches, tuple(raw["model_suffixes"]))


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SignatureError(f"{where}: bad pattern: {exc}") from exc


def _browser_session(raw: dict[str, Any]) -> BrowserSessionSignatures:
    tokens = tuple(
        SessionToken(
            id=t["id"],
            name=t["name"],
            vendor=t["vendor"],
            pattern=_compile(t["pattern"], f"browser_session.yaml: {t['id']}"),
            group=t.get("group", 0),
            keywords=tuple(k.lower() for k in t["keywords"]),
            prefix=t.get("prefix"),
        )
        for t in raw["session_tokens"]
    )
    return BrowserSessionSignatures(
        flags=tuple(
            AutomationFlag(f["flag"], f["value"], f["means"]) for f in raw["automation_flags"]
        ),
        env=tuple(AutomationFlag(f["name"], f["value"], f["means"]) for f in raw["automation_env"]),
        agent_configs=tuple((c["path"], tuple(c["keys"])) for c in raw["agent_configs"]),
        debug_flags=tuple(raw["debug_flags"]),
        browser_processes=frozenset(p.lower() for p in raw["browser_processes"]),
        sensitive_files=frozenset(raw["sensitive_files"]),
        session_tokens=tokens,
        cookie_libraries=tuple(
            NamedPattern(
                c["id"],
                c["name"],
                _compile(c["pattern"], f"browser_session.yaml: {c['id']}"),
                tuple(k.lower() for k in c["keywords"]),
            )
            for c in raw["cookie_libraries"]
        ),
        cookie_file_header=_compile(raw["cookie_file_header"], "browser_session.yaml: header"),
        code_suffixes=tuple(raw["code_suffixes"]),
    )


def _secret(raw: dict[str, Any]) -> SecretSignature:
    try:
        re.compile(raw["pattern"])
    except re.error as exc:
        raise SignatureError(f"secrets.yaml: {raw['id']}: bad pattern: {exc}") from exc
    prefixes = tuple(raw.get("prefixes", ())) + ((raw["prefix"],) if "prefix" in raw else ())
    return SecretSignature(
        id=raw["id"],
        name=raw["name"],
        vendor=raw["vendor"],
        pattern=raw["pattern"],
        keywords=tuple(k.lower() for k in raw["keywords"]),
        prefixes=prefixes,
        severity=raw["severity"],
        source=raw["source"],
    )


def _check_references(pack: SignaturePack) -> None:
    """Ids unique within each list; every vendor named is in vendors.yaml."""
    extensions = pack.extensions
    groups: list[tuple[str, list[Any]]] = [
        ("apps", list(pack.apps)),
        ("mcp_clients", list(pack.mcp_clients)),
        ("secrets", list(pack.secrets)),
        ("mcp_services", list(pack.mcp_services)),
        ("model_servers", list(pack.models.servers)),
        ("model_servers (caches)", list(pack.models.caches)),
        ("extensions", [*extensions.ide.values(), *extensions.jetbrains.values()]),
        ("extensions (browser)", list(extensions.browser.values())),
        ("browser_session", list(pack.browser_session.session_tokens)),
    ]
    for name, entries in groups:
        ids = [e.id for e in entries]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise SignatureError(f"{name}: duplicate ids: {', '.join(dupes)}")
        named = {e.vendor for e in entries if e.vendor}
        unknown = sorted(named - set(pack.vendors))
        if unknown:
            raise SignatureError(f"{name}: vendors not in vendors.yaml: {', '.join(unknown)}")


def load_pack(directory: Path | None = None) -> SignaturePack:
    """Load and validate a signature pack (the built-in one by default)."""
    directory = directory or BUILTIN_DIR
    registry = _registry()
    raw = {stem: _read_validated(directory, stem, registry) for stem in PACK_FILES}
    digest = hashlib.sha256()
    for stem in PACK_FILES:
        digest.update(json.dumps(raw[stem], sort_keys=True).encode("utf-8"))
    pack = SignaturePack(
        version=f"builtin-{digest.hexdigest()[:12]}",
        vendors={
            v["id"]: Vendor(v["id"], v["name"], tuple(v.get("domains", ())), v["source"])
            for v in raw["vendors"]["vendors"]
        },
        apps=tuple(_app(a) for a in raw["apps"]["apps"]),
        mcp_clients=tuple(_client(c) for c in raw["mcp_clients"]["clients"]),
        mcp_services=tuple(_service(s) for s in raw["mcp_services"]["services"]),
        secrets=tuple(_secret(s) for s in raw["secrets"]["secrets"]),
        extensions=_extensions(raw["extensions"]),
        models=_models(raw["model_servers"]),
        browser_session=_browser_session(raw["browser_session"]),
        files=tuple(f"{stem}.yaml" for stem in PACK_FILES),
    )
    _check_references(pack)
    logger.debug("loaded signature pack %s from %s", pack.version, directory)
    return pack


@cache
def builtin_pack() -> SignaturePack:
    return load_pack(BUILTIN_DIR)
