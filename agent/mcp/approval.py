"""Whether Claude Code runs a project's `.mcp.json` servers: approved, disabled or pending.

Claude Code asks before it starts a project server; the answers sit in
`enabledMcpjsonServers`, `disabledMcpjsonServers` and `enableAllProjectMcpServers` of
the project's and the user's settings and of `~/.claude.json`'s project entry
(docs.anthropic.com Claude Code settings; research/mcp-anchors.md section 4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shadowmap.agent.context import ScanContext
from shadowmap.agent.mcp.locate import local_project
from shadowmap.agent.mcp.parse import PARSE_ERRORS, parse_document
from shadowmap.agent.sources.filesystem import read_text
from shadowmap.agent.sources.interface import Unreadable


def _read(path: Path) -> dict[str, Any]:
    try:
        data = parse_document(read_text(path), "jsonc")
    except (Unreadable, *PARSE_ERRORS):
        return {}
    return data if isinstance(data, dict) else {}


def _settings(ctx: ScanContext, project: Path) -> list[dict[str, Any]]:
    layers = [
        _read(project / ".claude" / "settings.local.json"),
        _read(project / ".claude" / "settings.json"),
        _read(ctx.home / ".claude" / "settings.json"),
    ]
    projects = _read(ctx.home / ".claude.json").get("projects")
    if isinstance(projects, dict):
        layers += [
            v
            for k, v in projects.items()
            if isinstance(v, dict) and local_project(ctx, str(k)) == project
        ]
    return layers


def approval(ctx: ScanContext, project: Path, server: str) -> str:
    layers = ctx.memo(f"claude-approval:{project}", lambda: _settings(ctx, project))
    if any(server in (layer.get("disabledMcpjsonServers") or []) for layer in layers):
        return "disabled"
    if any(server in (layer.get("enabledMcpjsonServers") or []) for layer in layers):
        return "approved"
    if any(layer.get("enableAllProjectMcpServers") is True for layer in layers):
        return "approved"
    return "pending"
