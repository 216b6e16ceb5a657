"""Where credentials sit on an endpoint: dotfiles, shell rc and history, .env files, .netrc,
IDE and agent settings, MCP configs, notebooks and project files under the home.

Reads folder listings only; the shared file pass (agent/text_pass.py) reads the files,
each bounded in size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from shadowmap.agent.context import ScanContext
from shadowmap.agent.mcp.locate import config_files
from shadowmap.agent.sources.filesystem import MAX_CONFIG_BYTES, SKIP_DIRS, files_in, walk_dirs

logger = logging.getLogger(__name__)

# A project file larger than this is data or a bundle, not source we look for.
MAX_SOURCE_BYTES = 1024 * 1024
# Shell history grows for years (bash HISTFILESIZE, zsh SAVEHIST); it is read up to this.
MAX_HISTORY_BYTES = 16 * 1024 * 1024
# How many project files one scan reads at most, so a huge home stays a bounded scan.
MAX_PROJECT_FILES = 20000
# How deep inside an app's own config folder we look (~/.codex/auth.json is depth 0,
# ~/.claude/projects/x/settings.json depth 2).
APP_CONFIG_DEPTH = 2
MAX_APP_CONFIG_FILES = 300
# Credential and settings files at fixed places, each named by the tool that writes it:
# fish (fish-shell docs), PSReadLine (learn.microsoft.com about_PSReadLine), curl on
# Windows (_netrc), huggingface_hub (HF_TOKEN_PATH), gh (hosts.yml), copilot language
# server, AWS CLI, Docker CLI, Codex CLI (auth.json), Claude Code (.credentials.json),
# Gemini CLI (.env), Continue, VS Code / Cursor / Windsurf / VSCodium user settings, Zed,
# and Simon Willison's llm (keys.json).
KNOWN_FILES = (
    "~/.config/fish/config.fish",
    "~/.local/share/fish/fish_history",
    "{appdata}/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt",
    "~/_netrc",
    "~/.cache/huggingface/token",
    "~/.huggingface/token",
    "~/.config/gh/hosts.yml",
    "~/.config/github-copilot/hosts.json",
    "~/.config/github-copilot/apps.json",
    "~/.aws/credentials",
    "~/.docker/config.json",
    "~/.codex/auth.json",
    "~/.claude/.credentials.json",
    "~/.gemini/.env",
    "~/.continue/config.json",
    "~/.continue/config.yaml",
    "{appconfig}/Code/User/settings.json",
    "{appconfig}/Cursor/User/settings.json",
    "{appconfig}/Windsurf/User/settings.json",
    "{appconfig}/VSCodium/User/settings.json",
    "~/.config/zed/settings.json",
    "{appconfig}/io.datasette.llm/keys.json",
)
# Dotfile names that are shell or REPL history (bash, zsh, python, node, psql, mysql,
# sqlite3, irb; each tool's documented default HISTFILE).
HISTORY_MARKERS = ("history", "_hist")
# Project files worth reading: source, notebooks, config and notes (binary and media never).
PROJECT_SUFFIXES = frozenset(
    {
        ".py", ".ipynb", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", ".jsonc",
        ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".sh", ".bash",
        ".zsh", ".fish", ".ps1", ".tf", ".tfvars", ".rb", ".go", ".java", ".kt", ".rs",
        ".php", ".cs", ".swift", ".md", ".txt", ".xml", ".tpl", ".ctmpl", ".r",
    }
)  # fmt: skip
PROJECT_NAMES = frozenset({"Dockerfile", "Makefile", "Procfile", ".npmrc", ".pypirc"})
# Copies that a tool keeps beside the original (Jupyter's checkpoints): read once only.
COPY_DIRS = frozenset({".ipynb_checkpoints"})


class Place(str, Enum):
    """Why a file is read; it decides the size bound and whether references count."""

    CONFIG = "config"  # dotfiles, .env files, settings, MCP configs: keys and references
    HISTORY = "history"  # shell history: keys only (a command run is not a stored reference)
    SOURCE = "source"  # project source and notebooks: keys only

    @property
    def limit(self) -> int:
        """Config as the MCP detector reads it (~/.claude.json grows past 1 MB)."""
        sizes = {Place.HISTORY: MAX_HISTORY_BYTES, Place.SOURCE: MAX_SOURCE_BYTES}
        return sizes.get(self, MAX_CONFIG_BYTES)


@dataclass(frozen=True)
class FileToRead:
    path: Path
    place: Place


def is_env_file(name: str) -> bool:
    return name == ".env" or name.startswith(".env.")


def _dotfile_place(name: str) -> Place:
    lowered = name.lower()
    return Place.HISTORY if any(m in lowered for m in HISTORY_MARKERS) else Place.CONFIG


def _known(ctx: ScanContext) -> list[FileToRead]:
    found = [FileToRead(p, _dotfile_place(p.name)) for p in files_in(ctx.home) if p.name[:1] == "."]
    for pattern in KNOWN_FILES:
        found.extend(FileToRead(p, _dotfile_place(p.name)) for p in ctx.expand(pattern))
    found.extend(FileToRead(c.path, Place.CONFIG) for c in config_files(ctx))
    return found


def _app_configs(ctx: ScanContext) -> list[FileToRead]:
    found: list[FileToRead] = []
    for app in ctx.signatures.apps:
        patterns = [*app.credential_files.for_os(ctx.os.value), *app.config.for_os(ctx.os.value)]
        for pattern in patterns:
            for path in ctx.expand(pattern):
                files = [path] if path.is_file() else _config_folder_files(path)
                found.extend(FileToRead(p, Place.CONFIG) for p in files)
    return found


def _config_folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [
        p
        for sub in walk_dirs(folder, APP_CONFIG_DEPTH)
        for p in files_in(sub)
        if p.suffix.lower() in PROJECT_SUFFIXES or is_env_file(p.name)
    ]
    return files[:MAX_APP_CONFIG_FILES]


def project_candidates(home: Path, folder: Path, files: list[Path]) -> list[FileToRead]:
    """Of one project folder's files: .env files anywhere; source and notebooks outside
    the home's own dot folders (app data, read through the apps' and MCP clients' paths)."""
    parts = _relative_parts(home, folder)
    if COPY_DIRS & set(parts) or SKIP_DIRS & set(parts):
        return []
    in_app_data = bool(parts) and parts[0].startswith(".")
    return [
        FileToRead(path, project_place(path))
        for path in files
        if is_env_file(path.name) or (not in_app_data and _is_project_file(path))
    ]


def project_place(path: Path) -> Place:
    """Why a project file is read: a .env file is config, the rest is source."""
    return Place.CONFIG if is_env_file(path.name) else Place.SOURCE


def _relative_parts(home: Path, folder: Path) -> tuple[str, ...]:
    try:
        return folder.relative_to(home).parts
    except ValueError:
        return ()


def _is_project_file(path: Path) -> bool:
    return path.suffix.lower() in PROJECT_SUFFIXES or path.name in PROJECT_NAMES


def fixed_files(ctx: ScanContext) -> dict[Path, FileToRead]:
    """The files at known places (dotfiles, credential files, MCP and app configs), each
    once, first reason wins. Project files come from the walk (agent/text_pass.py), at
    most MAX_PROJECT_FILES of those not already here."""
    chosen: dict[Path, FileToRead] = {}
    for candidate in [*_known(ctx), *_app_configs(ctx)]:
        if candidate.path.is_file():
            chosen.setdefault(candidate.path, candidate)
    return chosen
