"""Finds the MCP config files on a machine: each client's user, managed and project files.

Projects come from a bounded walk of the home and from the project lists the clients
keep themselves (Claude Code's `projects`, VS Code's workspaceStorage, Codex's
`[projects]`). Reads only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from urllib.parse import unquote, urlsplit

from shadowmap.agent.context import ScanContext
from shadowmap.agent.mcp.parse import PARSE_ERRORS, dig, parse_document
from shadowmap.agent.sources.filesystem import read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.signatures import ConfigLocation, MCPClient, ProjectList

logger = logging.getLogger(__name__)

# A project path recorded on another machine's layout: the part after the user's home.
FOREIGN_HOME = re.compile(r"^(?:/Users/[^/]+|/home/[^/]+|/root|[A-Za-z]:/Users/[^/]+)(/.*)?$")
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ConfigFile:
    client: MCPClient
    location: ConfigLocation
    path: Path
    project: Path | None = None  # the project folder, for project-scope files


def local_project(ctx: ScanContext, recorded: str) -> Path | None:
    """A project path a client recorded, as a folder under this scan's home or root."""
    if recorded.startswith("file://"):
        parts = urlsplit(recorded)
        recorded = unquote(parts.path)
        if re.match(r"^/[A-Za-z]:", recorded):
            recorded = recorded[1:]
    posix = PureWindowsPath(recorded).as_posix() if "\\" in recorded else recorded
    candidates = []
    match = FOREIGN_HOME.match(posix)
    if match:
        candidates.append(ctx.home / (match.group(1) or "/").lstrip("/"))
    if posix.startswith("/"):
        candidates.append(ctx.root / posix.lstrip("/"))
    return next((c for c in candidates if c.is_dir()), None)


def _listed(ctx: ScanContext, plist: ProjectList) -> list[Path]:
    found: list[Path] = []
    for path in ctx.expand(plist.path):
        try:
            data = parse_document(read_text(path), plist.format)
        except (Unreadable, *PARSE_ERRORS):
            logger.debug("project list %s not read", path)
            continue
        if plist.keys_at:
            node = dig(data, plist.keys_at)
            recorded = [str(k) for k in node] if isinstance(node, dict) else []
        else:
            value = dig(data, plist.value_at or "")
            recorded = [value] if isinstance(value, str) else []
        found.extend(p for p in (local_project(ctx, r) for r in recorded) if p is not None)
    return found


def project_dirs(ctx: ScanContext) -> list[Path]:
    """Every folder that may hold a project's MCP files, each once."""

    def compute() -> list[Path]:
        listed = [
            p
            for client in ctx.signatures.mcp_clients
            for pl in client.project_lists
            for p in _listed(ctx, pl)
        ]
        return list(dict.fromkeys([*ctx.project_dirs, *listed]))

    return ctx.memo("mcp.project_dirs", compute)


def _project_files(folder: Path, rel: str) -> list[Path]:
    if GLOB_CHARS & set(rel):
        try:
            return sorted(p for p in folder.glob(rel) if p.is_file())
        except OSError:
            return []
    path = folder / rel
    return [path] if path.is_file() else []


def config_files(ctx: ScanContext) -> list[ConfigFile]:
    """Every MCP config file that a client of the signatures reads, each once per client."""

    def compute() -> list[ConfigFile]:
        found: list[ConfigFile] = []
        seen: set[tuple[str, Path]] = set()
        for client in ctx.signatures.mcp_clients:
            for location in client.configs:
                for path, project in _paths_for(ctx, location):
                    if (client.id, path) not in seen:
                        seen.add((client.id, path))
                        found.append(ConfigFile(client, location, path, project))
        return found

    return ctx.memo("mcp.config_files", compute)


def _paths_for(ctx: ScanContext, location: ConfigLocation) -> list[tuple[Path, Path | None]]:
    patterns = location.paths.for_os(ctx.os.value)
    if location.scope != "project":
        return [(p, None) for pat in patterns for p in ctx.expand(pat) if p.is_file()]
    return [
        (path, folder)
        for folder in project_dirs(ctx)
        for rel in patterns
        for path in _project_files(folder, rel)
    ]
