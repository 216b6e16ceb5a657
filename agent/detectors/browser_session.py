"""Automation that borrows a person's browser session (AAM 3.5): agents pointed at a real
profile or a running browser, browsers opened for remote debugging, other processes
holding cookie stores open, human session tokens, cookie jars and cookie-reading code.

Session token values are handled like every secret: a preview and a keyed hash only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import psutil

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import Detector, DetectorOutput
from shadowmap.agent.mcp.entry import normalize
from shadowmap.agent.mcp.locate import FOREIGN_HOME, config_files
from shadowmap.agent.mcp.parse import PARSE_ERRORS, entries, parse_document, pointer, server_maps
from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    Location,
    Severity,
    SourceId,
    finding_id,
)
from shadowmap.agent.redact import FingerprintKey, secret_evidence
from shadowmap.agent.sources import processes
from shadowmap.agent.sources.filesystem import files_in, read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.agent.text_pass import TextReader, output_for
from shadowmap.signatures import AutomationFlag, BrowserSessionSignatures

logger = logging.getLogger(__name__)

AAM = ["AAM-3.5"]
MAX_FILE_BYTES = 1024 * 1024
# A scan reads at most this many project files for session tokens and cookie code.
MAX_PROJECT_FILES = 20_000
# The file a Chromium browser writes in its user-data folder while remote debugging is on
# (chrome-devtools-mcp src/browser.ts; research/signatures-facts.md 6.2).
DEVTOOLS_ACTIVE_PORT = "DevToolsActivePort"
HOME_PREFIX = re.compile(r"^(~|\$HOME|\$\{HOME\}|%USERPROFILE%)(?=[/\\]|$)")
# What a text must hold, case folded, to be worth the cookie-jar and code checks: the
# Netscape header, a storage state's keys, and the cookie libraries' and CDP calls' names.
MARKERS = ("cookie", "connect_over_cdp", "connectovercdp", "puppeteer.connect", "rookie")


@dataclass(frozen=True)
class Hit:
    """One way automation reaches a session, before it becomes a finding."""

    mechanism: str
    means: str
    severity: Severity
    path: str | None
    key: str  # what makes this hit the same one next scan
    details: dict[str, Any]
    user: str | None = None
    value: str | None = None  # a session token, in memory only
    vendor: str | None = None
    prefix: str | None = None


def profile_roots(ctx: ScanContext) -> list[str]:
    """The browsers' own user-data folders for this user, as posix strings."""
    roots = [
        ctx.resolve(p).as_posix()
        for browser in ctx.signatures.extensions.browsers
        for p in browser.paths.for_os(ctx.os.value)
    ]
    return [r for r in roots if "*" not in r]


def as_local_path(ctx: ScanContext, value: str) -> str:
    value = HOME_PREFIX.sub(ctx.home.as_posix(), value.strip().strip("\"'")).replace("\\", "/")
    match = FOREIGN_HOME.match(value)
    if match and not value.startswith(ctx.home.as_posix()):
        return (ctx.home / (match.group(1) or "/").lstrip("/")).as_posix()
    return value


def is_real_profile(ctx: ScanContext, value: str) -> bool:
    local = as_local_path(ctx, value).rstrip("/")
    return any(local == r or local.startswith(r + "/") for r in profile_roots(ctx))


def _flag_value(args: list[str], index: int) -> str:
    arg = args[index]
    if "=" in arg:
        return arg.split("=", 1)[1]
    return args[index + 1] if index + 1 < len(args) else ""


def automation_in_args(
    ctx: ScanContext, flags: tuple[AutomationFlag, ...], args: list[str]
) -> Iterator[tuple[AutomationFlag, str]]:
    for index, arg in enumerate(args):
        name = arg.split("=", 1)[0]
        for flag in flags:
            if name != flag.name:
                continue
            value = "" if flag.value == "none" else _flag_value(args, index)
            if flag.value == "real_profile" and not is_real_profile(ctx, value):
                continue
            yield flag, value


def _automation_hit(where: str, flag: AutomationFlag, value: str, path: str, key: str) -> Hit:
    real = flag.value == "real_profile"
    return Hit(
        mechanism="automation_flag" if flag.name.startswith("-") else "automation_env",
        means=flag.means,
        severity=Severity.HIGH if real else Severity.MEDIUM,
        path=path,
        key=f"{key}|{flag.name}",
        details={"where": where, "flag": flag.name, "profile": value if real else None},
    )


def mcp_hits(ctx: ScanContext, sigs: BrowserSessionSignatures) -> Iterator[Hit]:
    for cfg in config_files(ctx):
        try:
            data = parse_document(read_text(cfg.path), cfg.location.format)
        except (Unreadable, *PARSE_ERRORS):
            continue  # the MCP detector reports unreadable configs
        for trail, server_map in server_maps(data, cfg.location.servers_at):
            for name, entry in entries(server_map):
                if not isinstance(entry, dict):
                    continue
                spec = normalize(entry)
                where = f"MCP server {name} in {cfg.client.name}"
                place = ctx.display(cfg.path) + "#" + pointer([*trail, name])
                for flag, value in automation_in_args(ctx, sigs.flags, spec.args):
                    yield _automation_hit(where, flag, value, ctx.display(cfg.path), place)
                for env in sigs.env:
                    setting = spec.env.get(env.name)
                    if setting and (env.value != "real_profile" or is_real_profile(ctx, setting)):
                        yield _automation_hit(where, env, setting, ctx.display(cfg.path), place)


def agent_config_hits(ctx: ScanContext, sigs: BrowserSessionSignatures) -> Iterator[Hit]:
    for pattern, keys in sigs.agent_configs:
        for path in ctx.expand(pattern):
            try:
                data = json.loads(read_text(path, MAX_FILE_BYTES))
            except (Unreadable, ValueError):
                continue
            found = sorted(k for k in keys if _has_value(data, k))
            if found:
                yield Hit(
                    "agent_config",
                    "an agent is set to attach to a browser or profile",
                    Severity.MEDIUM,
                    ctx.display(path),
                    ctx.display(path),
                    {"keys": found},
                )


def _has_value(node: Any, key: str) -> bool:
    if isinstance(node, dict):
        return any((k == key and v) or _has_value(v, key) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_value(v, key) for v in node)
    return False


def devtools_port_hits(ctx: ScanContext) -> Iterator[Hit]:
    for root in profile_roots(ctx):
        marker = Path(root) / DEVTOOLS_ACTIVE_PORT
        if marker.is_file():
            yield Hit(
                "devtools_active_port",
                "the person's own browser is open to remote debugging",
                Severity.HIGH,
                ctx.display(marker),
                ctx.display(marker),
                {"profile": root},
            )


def debug_port_hits(ctx: ScanContext, sigs: BrowserSessionSignatures) -> Iterator[Hit]:
    for proc in ctx.memo("processes", processes.snapshot):
        names = {proc.name.lower(), PurePath(proc.exe).name.lower()} - {""}
        if not names & sigs.browser_processes:
            continue
        flags = [a for a in proc.cmdline if a.split("=", 1)[0] in sigs.debug_flags]
        flags = [f for f in flags if f != "--remote-debugging-port=0"]  # Elastic's exception
        if not flags or "--type=" in " ".join(proc.cmdline):  # children inherit flags
            continue
        profile = next(
            (a.split("=", 1)[1] for a in proc.cmdline if a.startswith("--user-data-dir=")), None
        )
        real = profile is None or is_real_profile(ctx, profile)
        yield Hit(
            "debug_port",
            "a browser is open to remote control over CDP",
            Severity.HIGH if real else Severity.MEDIUM,
            None,
            f"{profile}|{','.join(sorted(flags))}",  # a launcher script and its browser are one
            {
                "pid": proc.pid,
                "process": proc.name,
                "flags": flags,
                "profile": profile,
                "real_profile": real,
            },
            user=proc.username or None,
        )


def cookie_store_hits(ctx: ScanContext, sigs: BrowserSessionSignatures) -> Iterator[Hit]:
    """Processes other than browsers that hold a cookie or login store open."""
    for proc in ctx.memo("processes", processes.snapshot):
        names = {proc.name.lower(), PurePath(proc.exe).name.lower()} - {""}
        if names & sigs.browser_processes:
            continue
        try:
            opened = [f.path for f in psutil.Process(proc.pid).open_files()]
        except (psutil.Error, OSError):
            continue
        for path in opened:
            if PurePath(path).name in sigs.sensitive_files:
                yield Hit(
                    "cookie_store_open",
                    "a program reads the browser's cookies or logins",
                    Severity.HIGH,
                    path,
                    f"{proc.exe}|{path}",
                    {"pid": proc.pid, "process": proc.name, "executable": proc.exe},
                    user=proc.username or None,
                )


class SessionTexts(TextReader):
    """This detector's part in the shared file pass (agent/text_pass.py): dotfiles, MCP
    configs, and project source and .env files up to MAX_PROJECT_FILES, for session
    tokens, cookie jars and cookie-reading code."""

    source = SourceId.BROWSER_SESSION

    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.sigs = ctx.signatures.browser_session
        dotfiles = [p for p in files_in(ctx.home) if p.name.startswith(".")]
        configs = [c.path for c in config_files(ctx)]
        self.known = dict.fromkeys([*dotfiles, *configs], MAX_FILE_BYTES)
        self.projects = 0  # project files met in the walk, those at a known place too

    def fixed(self) -> dict[Path, int]:
        return self.known

    def walking(self) -> bool:
        return self.projects < MAX_PROJECT_FILES

    def in_folder(self, folder: Path, files: list[Path]) -> dict[Path, int]:
        code = self.sigs.code_suffixes
        found = [p for p in files if p.suffix.lower() in code or p.name.startswith(".env")]
        room = max(0, MAX_PROJECT_FILES - self.projects)
        self.projects += len(found)
        if self.projects >= MAX_PROJECT_FILES:
            logger.info("project files for browser-session checks capped at %d", MAX_PROJECT_FILES)
        return {p: MAX_FILE_BYTES for p in found[:room] if p not in self.known}

    def read(self, path: Path, text: str) -> DetectorOutput:
        out = DetectorOutput()
        for hit in text_hits(self.sigs, self.ctx.display(path), path.suffix, text):
            out.findings.append(as_finding(self.ctx, SourceId.BROWSER_SESSION, hit))
        return out


def might_hold_session(sigs: BrowserSessionSignatures, folded: bytes) -> bool:
    """A cheap first look at case-folded bytes, before any pattern runs (scan-repo)."""
    return any(marker in folded for marker in session_markers(sigs))


def session_markers(sigs: BrowserSessionSignatures) -> tuple[bytes, ...]:
    words = [k for t in sigs.session_tokens for k in t.keywords]
    words += [k for lib in sigs.cookie_libraries for k in lib.keywords]
    return tuple(dict.fromkeys(w.encode() for w in (*words, *MARKERS)))


def text_hits(sigs: BrowserSessionSignatures, shown: str, suffix: str, text: str) -> Iterator[Hit]:
    """Session tokens, cookie jars and cookie-reading code in one file's text."""
    suffix = suffix.lower()
    folded = text.lower()
    for token in sigs.session_tokens:
        if not any(k in folded for k in token.keywords):
            continue
        for match in token.pattern.finditer(text):
            value = match.group(token.group)
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(
                "session_token",
                f"a person's {token.name} is written where automation reads it",
                Severity.HIGH,
                shown,
                f"{shown}|{token.id}",
                {"token": token.id, "line": line},
                value=value,
                vendor=token.vendor,
                prefix=token.prefix,
            )
    if sigs.cookie_file_header.search(text[:200]):
        yield Hit(
            "cookie_file",
            "a jar of browser cookies that automation can load",
            Severity.MEDIUM,
            shown,
            shown,
            {"format": "netscape"},
        )
    elif suffix == ".json" and _storage_state(text):
        yield Hit(
            "storage_state",
            "saved browser cookies and local storage (Playwright)",
            Severity.MEDIUM,
            shown,
            shown,
            {"format": "playwright-storage-state"},
        )
    if suffix in sigs.code_suffixes:
        for lib in sigs.cookie_libraries:
            # A substring test first: the patterns' \b alternations are slow on large texts.
            if not any(k in folded for k in lib.keywords):
                continue
            used = lib.pattern.search(text)
            if used:
                line = text.count("\n", 0, used.start()) + 1
                yield Hit(
                    "cookie_library",
                    f"code that uses {lib.name} to reach browser sessions",
                    Severity.MEDIUM,
                    shown,
                    f"{shown}|{lib.id}",
                    {"library": lib.id, "line": line},
                )


def _storage_state(text: str) -> bool:
    if '"cookies"' not in text or '"origins"' not in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("cookies"), list)
        and isinstance(data.get("origins"), list)
    )


def _title(hit: Hit) -> str:
    text = hit.means[0].upper() + hit.means[1:]
    where = hit.details.get("where") or hit.details.get("process")
    return f"{text} ({where})" if where else text


class BrowserSessionDetector(Detector):
    id = DetectorId.BROWSER_SESSION
    sources = (SourceId.BROWSER_SESSION, SourceId.PROCESSES)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        sigs = ctx.signatures.browser_session
        if SourceId.BROWSER_SESSION in sources:
            texts = output_for(ctx, SourceId.BROWSER_SESSION)
            found = [*mcp_hits(ctx, sigs), *agent_config_hits(ctx, sigs), *devtools_port_hits(ctx)]
            out.findings += [as_finding(ctx, SourceId.BROWSER_SESSION, h) for h in found]
            out.extend(texts)
        if SourceId.PROCESSES in sources and ctx.live:
            live = [*debug_port_hits(ctx, sigs), *cookie_store_hits(ctx, sigs)]
            out.findings += [as_finding(ctx, SourceId.PROCESSES, h) for h in live]
        return out


def as_finding(ctx: ScanContext, source: SourceId, hit: Hit) -> Finding:
    location = Location(path=hit.path, line=hit.details.get("line")) if hit.path else None
    return hit_finding(hit, ctx.key, source, hit.user or ctx.user, location)


def hit_finding(
    hit: Hit, key: FingerprintKey, source: SourceId, user: str | None, location: Location | None
) -> Finding:
    """A hit as a finding; a session token keeps only its preview and keyed hash."""
    evidence_secret = value_hash = None
    if hit.value is not None:
        evidence_secret = secret_evidence(hit.details["token"], hit.value, hit.prefix)
        value_hash = key.value_hash(hit.value)
    return Finding(
        id=finding_id(
            DetectorId.BROWSER_SESSION,
            FindingKind.BROWSER_SESSION,
            hit.mechanism,
            hit.key,
            value_hash,
        ),
        detector=DetectorId.BROWSER_SESSION,
        kind=FindingKind.BROWSER_SESSION,
        source=source,
        title=_title(hit),
        severity=hit.severity,
        vendor=hit.vendor,
        user=user,
        location=location,
        aam_controls=AAM,
        evidence={"mechanism": hit.mechanism, **hit.details},
        secret=evidence_secret,
        value_hash=value_hash,
    )
