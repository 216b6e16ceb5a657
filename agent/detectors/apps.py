"""AI desktop apps and CLI agents: installed, set up for the user, or running.

Installed and configured come from the filesystem (source ``apps``); running comes from
the process table (source ``processes``, live). Reads only.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path, PurePath

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import Detector, DetectorOutput
from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    OSName,
    Severity,
    SourceId,
    finding_id,
)
from shadowmap.agent.sources import installed as os_installed
from shadowmap.agent.sources import processes
from shadowmap.signatures import AppSignature

logger = logging.getLogger(__name__)

# Where CLI agents' installers put their binaries besides PATH (npm -g prefixes, pipx,
# uv, bun, cargo; each tool's install docs), home- and root-relative.
HOME_BIN_DIRS = (
    "~/.local/bin",
    "~/bin",
    "~/.npm-global/bin",
    "~/.bun/bin",
    "~/.cargo/bin",
    "~/.deno/bin",
    "~/.volta/bin",
    "~/.claude/local",
)
ROOT_BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin", "/snap/bin")
WINDOWS_SUFFIXES = ("", ".exe", ".cmd")
MAX_LISTED = 5
AAM_INVENTORY = ["AAM-1.1", "AAM-1.5"]


def bin_dirs(ctx: ScanContext) -> list[Path]:
    dirs = [ctx.resolve(d) for d in (*HOME_BIN_DIRS, *ROOT_BIN_DIRS)]
    real_home = str(Path.home())
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry.startswith("/"):
            continue
        if entry == real_home or entry.startswith(real_home + "/"):
            dirs.append(ctx.home / entry[len(real_home) :].lstrip("/"))
        else:
            dirs.append(ctx.root / entry.lstrip("/"))
    return list(dict.fromkeys(dirs))


def _kind(app: AppSignature) -> FindingKind:
    return FindingKind.CLI_AGENT if app.kind == "cli_agent" else FindingKind.APP


class AppsDetector(Detector):
    id = DetectorId.APPS
    sources = (SourceId.APPS, SourceId.PROCESSES)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        if SourceId.APPS in sources:
            dirs = bin_dirs(ctx)
            for app in ctx.signatures.apps:
                finding = self._installed(ctx, app, dirs)
                if finding:
                    out.findings.append(finding)
        if SourceId.PROCESSES in sources and ctx.live:
            out.findings.extend(self._running(ctx))
        return out

    def _registered(self, ctx: ScanContext, app: AppSignature) -> list[os_installed.Installed]:
        """Where the OS itself records the app: bundles, desktop files, Flatpak, Snap."""
        if ctx.os is OSName.MACOS:
            table = os_installed.bundles(ctx)
            return [table[b] for b in app.bundle_ids if b in table]
        if ctx.os is OSName.LINUX:
            desktop = os_installed.desktop_entries(ctx)
            packages = os_installed.packages(ctx)
            return [desktop[d] for d in app.desktop_ids if d in desktop] + [
                packages[p] for p in (*app.flatpak_ids, *app.snap_names) if p in packages
            ]
        if ctx.os is OSName.WINDOWS:
            table = os_installed.uninstall_entries(ctx)
            return [i for name, i in table.items() if os_installed.matches_product(name, app.name)]
        return []

    def _installed(self, ctx: ScanContext, app: AppSignature, dirs: list[Path]) -> Finding | None:
        os_name = ctx.os.value
        registered = self._registered(ctx, app)
        paths = [p for pat in app.install.for_os(os_name) for p in ctx.expand(pat)]
        installed = list(dict.fromkeys([*(r.path for r in registered), *paths]))
        suffixes = WINDOWS_SUFFIXES if ctx.os is OSName.WINDOWS else ("",)
        executables = [
            d / f"{name}{suffix}"
            for name in app.executables
            for d in dirs
            for suffix in suffixes
            if (d / f"{name}{suffix}").is_file()
        ]
        configured = [p for pat in app.config.for_os(os_name) for p in ctx.expand(pat)]
        credentials = [p for pat in app.credential_files.for_os(os_name) for p in ctx.expand(pat)]
        if not (installed or executables or configured):
            return None
        state = "installed" if installed or executables else "configured"
        kind = _kind(app)
        version = next((r.version for r in registered if r.version), None)
        teams = sorted({r.team_id for r in registered if r.team_id})
        # Signed by someone else than the vendor: a lookalike or a tampered copy.
        foreign = [t for t in teams if app.team_ids and t not in app.team_ids]
        return Finding(
            id=finding_id(self.id, kind, app.id, ctx.user),
            detector=self.id,
            kind=kind,
            source=SourceId.APPS,
            title=f"{app.name} {state}" + (" (not signed by its vendor)" if foreign else ""),
            severity=Severity.HIGH if foreign else Severity.INFO,
            vendor=app.vendor,
            user=ctx.user,
            aam_controls=AAM_INVENTORY + (["AAM-1.2"] if credentials else []),
            evidence={
                "app": app.id,
                "name": app.name,
                "state": state,
                "version": version,
                "team_ids": teams,
                "unexpected_signer": bool(foreign),
                "installed_time": next(
                    (r.installed_at for r in registered if r.installed_at), None
                ),
                "installed_at": [ctx.display(p) for p in installed[:MAX_LISTED]],
                "executables": [ctx.display(p) for p in executables[:MAX_LISTED]],
                "config": [ctx.display(p) for p in configured[:MAX_LISTED]],
                "credential_files": [ctx.display(p) for p in credentials[:MAX_LISTED]],
            },
        )

    def _running(self, ctx: ScanContext) -> list[Finding]:
        by_name: dict[str, list[AppSignature]] = defaultdict(list)
        for app in ctx.signatures.apps:
            for name in app.processes:
                by_name[name].append(app)
        groups: dict[tuple[str, str], list[processes.ProcessInfo]] = defaultdict(list)
        apps = {app.id: app for app in ctx.signatures.apps}
        for proc in ctx.memo("processes", processes.snapshot):
            # Names compare with their case: "Claude" is the desktop app, "claude" the CLI.
            names = {proc.name, PurePath(proc.exe).name} - {""}
            for app in {a.id: a for n in names for a in by_name.get(n, [])}.values():
                groups[(app.id, proc.username)].append(proc)
        return [self._running_finding(apps[a], user, procs) for (a, user), procs in groups.items()]

    def _running_finding(
        self, app: AppSignature, user: str, procs: list[processes.ProcessInfo]
    ) -> Finding:
        kind = _kind(app)
        exes = sorted({p.exe for p in procs if p.exe})
        flags = sorted({f for p in procs for a in p.cmdline for f in app.risky_flags if f in a})
        return Finding(
            id=finding_id(self.id, kind, app.id, "running", user),
            detector=self.id,
            kind=kind,
            source=SourceId.PROCESSES,
            title=f"{app.name} running" + (" without approvals" if flags else ""),
            severity=Severity.MEDIUM if flags else Severity.INFO,
            vendor=app.vendor,
            user=user or None,
            aam_controls=AAM_INVENTORY,
            evidence={
                "app": app.id,
                "name": app.name,
                "state": "running",
                "processes": len(procs),
                "executables": exes[:MAX_LISTED],
                "risky_flags": flags,
                "via": procs[0].via,
            },
        )
