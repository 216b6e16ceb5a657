"""Which paths hold AI configuration, per source: what the daemon's file watcher listens to.

Made in the scan child from the signature pack (the daemon holds no signatures); reads
nothing. A change under one of these paths makes the daemon rescan that source alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.apps import HOME_BIN_DIRS
from shadowmap.agent.models import SourceId
from shadowmap.agent.secret_places import HISTORY_MARKERS, KNOWN_FILES

logger = logging.getLogger(__name__)

# Shell start-up files, where `export OPENAI_API_KEY=...` lands (bash(1) INVOCATION,
# zsh(1) STARTUP/SHUTDOWN FILES, fish's config.fish). Histories are left out: they change
# with every command and are read at the scheduled scans.
SHELL_RC_FILES = (
    "~/.bashrc",
    "~/.bash_profile",
    "~/.bash_login",
    "~/.profile",
    "~/.zshrc",
    "~/.zshenv",
    "~/.zprofile",
    "~/.env",
)


@dataclass(frozen=True)
class Target:
    pattern: str  # an absolute path, globs allowed
    source: SourceId


def _mcp(ctx: ScanContext) -> list[str]:
    return [
        pattern
        for client in ctx.signatures.mcp_clients
        for location in client.configs
        if location.scope != "project"  # under every project: read at scheduled scans
        for pattern in location.paths.for_os(ctx.os.value)
    ]


def _extensions(ctx: ScanContext) -> list[str]:
    sigs = ctx.signatures.extensions
    folders = [p for d in sigs.ide_dirs for p in d.paths.for_os(ctx.os.value)]
    folders += list(sigs.jetbrains_dirs.for_os(ctx.os.value))
    patterns = [f"{folder}/*" for folder in folders]
    for browser in sigs.browsers:
        inner = "*/extensions/*" if browser.firefox else "*/Extensions/*"
        patterns += [f"{root}/{inner}" for root in browser.paths.for_os(ctx.os.value)]
    return patterns


def _apps(ctx: ScanContext) -> list[str]:
    os_name = ctx.os.value
    patterns = [f"{folder}/*" for folder in HOME_BIN_DIRS]
    for app in ctx.signatures.apps:
        patterns += [*app.install.for_os(os_name), *app.config.for_os(os_name)]
        patterns += list(app.credential_files.for_os(os_name))
    return patterns


def _secrets(_ctx: ScanContext) -> list[str]:
    quiet = [p for p in KNOWN_FILES if not any(m in p.rsplit("/", 1)[-1] for m in HISTORY_MARKERS)]
    return [*SHELL_RC_FILES, *quiet]


def _model_files(ctx: ScanContext) -> list[str]:
    return [p for c in ctx.signatures.models.caches for p in c.paths.for_os(ctx.os.value)]


PLANNERS = {
    SourceId.MCP: _mcp,
    SourceId.EXTENSIONS: _extensions,
    SourceId.APPS: _apps,
    SourceId.SECRETS: _secrets,
    SourceId.MODEL_FILES: _model_files,
}


def watch_plan(contexts: list[ScanContext]) -> list[Target]:
    """Every watched pattern, resolved under each scanned home and the root."""
    targets: dict[str, Target] = {}
    for ctx in contexts:
        for source, planner in PLANNERS.items():
            for pattern in planner(ctx):
                try:
                    resolved = str(ctx.resolve(pattern))
                except ValueError:
                    logger.debug("not watched (not home- or root-relative): %s", pattern)
                    continue
                targets.setdefault(f"{source.value}\x1f{resolved}", Target(resolved, source))
    return list(targets.values())
