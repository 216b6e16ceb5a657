"""What each MCP server's definition was at the last scan, kept in the state folder, so a
scan can say which servers are new and which changed (the "rug pull" users fear)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

HISTORY_FILE = "mcp_definitions.json"


def load(state_dir: Path | None) -> dict[str, str] | None:
    if state_dir is None:
        return None
    try:
        data = json.loads((state_dir / HISTORY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        logger.warning("MCP definition history in %s unreadable; starting again", state_dir)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save(state_dir: Path | None, definitions: dict[str, str]) -> None:
    if state_dir is None:
        return
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        partial = state_dir / (HISTORY_FILE + ".tmp")
        partial.write_text(json.dumps(definitions, sort_keys=True), encoding="utf-8")
        os.replace(partial, state_dir / HISTORY_FILE)
    except OSError as exc:
        logger.warning("could not keep MCP definition history in %s: %s", state_dir, exc)


def change(previous: dict[str, str] | None, finding_id: str, definition: str) -> str | None:
    if previous is None:
        return None
    if finding_id not in previous:
        return "new"
    return "unchanged" if previous[finding_id] == definition else "changed"
