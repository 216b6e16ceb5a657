"""AI extensions in IDEs (VS Code and its forks, JetBrains) and browsers (Chromium family,
Firefox): id, name, version, publisher, vendor, and the browser permissions they hold.

Known ids come from signatures/extensions.yaml; an extension whose name or description
says it is AI is reported too, marked as a heuristic match. Reads only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from shadowmap.agent.sources.filesystem import read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.signatures import Browser, ExtensionSignatures, KnownExtension

logger = logging.getLogger(__name__)

MAX_MANIFEST_BYTES = 2 * 1024 * 1024
# VS Code's extension folders are "<publisher>.<name>-<version>[-<platform>]"
# (code.visualstudio.com, extension-marketplace: where extensions are installed).
IDE_FOLDER = re.compile(r"^(?P<id>[^.]+\.[^/]+?)-(?P<version>\d+\.\d+[^/]*)$")
# Chromium profile folders (chromium docs/user_data_dir.md).
PROFILE_NAMES = re.compile(r"^(Default|Profile \d+|Guest Profile)$")
# Host patterns that mean every site (Chrome extensions: match patterns).
ALL_SITES = frozenset({"<all_urls>", "*://*/*", "http://*/*", "https://*/*"})
# Permissions that reach a person's sessions, not just pages.
SESSION_PERMISSIONS = frozenset({"debugger", "cookies", "nativeMessaging"})
AAM_INVENTORY = ["AAM-1.1", "AAM-1.5"]


@dataclass(frozen=True)
class Seen:
    """One installed extension, as read from disk, before it is judged."""

    where: str  # editor or browser id
    where_name: str
    profile: str | None
    ext_id: str
    name: str
    version: str
    description: str
    path: Path
    permissions: tuple[str, ...] = ()


def _json(path: Path) -> Any:
    try:
        return json.loads(read_text(path, MAX_MANIFEST_BYTES))
    except (Unreadable, ValueError, RecursionError):
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _ai_words(sigs: ExtensionSignatures) -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in sigs.ai_words)
    return re.compile(rf"(?i)(?<![A-Za-z])({words})(?![A-Za-z])")


def _child_dirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def ide_extensions(ctx: ScanContext) -> Iterator[Seen]:
    for ide in ctx.signatures.extensions.ide_dirs:
        for folder in (
            f for pattern in ide.paths.for_os(ctx.os.value) for f in ctx.expand(pattern)
        ):
            obsolete = _obj(_json(folder / ".obsolete"))
            for ext in _child_dirs(folder):
                match = IDE_FOLDER.match(ext.name)
                if not match or ext.name in obsolete:
                    continue
                package = _obj(_json(ext / "package.json"))
                ext_id = f"{package.get('publisher', '')}.{package.get('name', '')}"
                ext_id = ext_id if ext_id != "." else match.group("id")
                yield Seen(
                    ide.editor,
                    ide.name,
                    None,
                    ext_id.lower(),
                    str(package.get("displayName") or package.get("name") or match.group("id")),
                    str(package.get("version") or match.group("version")),
                    str(package.get("description") or ""),
                    ext,
                )


def jetbrains_plugins(ctx: ScanContext) -> Iterator[Seen]:
    sigs = ctx.signatures.extensions
    for pattern in sigs.jetbrains_dirs.for_os(ctx.os.value):
        for folder in ctx.expand(pattern):
            ide = folder.parent.name if folder.name == "plugins" else folder.name
            for plugin in _child_dirs(folder):
                known = sigs.jetbrains.get(plugin.name.lower())
                if known:
                    yield Seen(
                        "jetbrains", f"JetBrains {ide}", ide, known.id, known.name, "", "", plugin
                    )


def _message(ext_dir: Path, manifest: dict[str, Any], value: str) -> str:
    """A manifest string, with "__MSG_name__" looked up in the default locale."""
    match = re.fullmatch(r"__MSG_(.+)__", value)
    if not match:
        return value
    locale = str(manifest.get("default_locale") or "en")
    messages = _obj(_json(ext_dir / "_locales" / locale / "messages.json"))
    wanted = match.group(1).lower()
    entry: Any = next((v for k, v in messages.items() if k.lower() == wanted), {})
    return str(entry.get("message", value)) if isinstance(entry, dict) else value


def _chromium_permissions(manifest: dict[str, Any]) -> tuple[str, ...]:
    perms = _strs(manifest.get("permissions")) + _strs(manifest.get("host_permissions"))
    scripts = manifest.get("content_scripts")
    for script in scripts if isinstance(scripts, list) else []:
        perms += _strs(_obj(script).get("matches"))
    return tuple(sorted({"<all_urls>" if p in ALL_SITES else p for p in perms}))


def _chromium(ctx: ScanContext, browser: Browser, root: Path) -> Iterator[Seen]:
    profiles = [p for p in _child_dirs(root) if PROFILE_NAMES.match(p.name)]
    if (root / "Extensions").is_dir():  # Opera keeps one profile in the root itself
        profiles.append(root)
    for profile in profiles:
        for ext in _child_dirs(profile / "Extensions"):
            versions = _child_dirs(ext)
            manifest = _json(versions[-1] / "manifest.json") if versions else None
            if not isinstance(manifest, dict):
                continue
            name = _message(versions[-1], manifest, str(manifest.get("name", ext.name)))
            yield Seen(
                browser.id,
                browser.name,
                profile.name,
                ext.name.lower(),
                name,
                str(manifest.get("version", "")),
                _message(versions[-1], manifest, str(manifest.get("description", ""))),
                versions[-1],
                _chromium_permissions(manifest),
            )


def _firefox(browser: Browser, root: Path) -> Iterator[Seen]:
    for profile in _child_dirs(root):
        addons = _obj(_json(profile / "extensions.json")).get("addons")
        for addon in addons if isinstance(addons, list) else []:
            if not isinstance(addon, dict) or addon.get("type") != "extension":
                continue
            if addon.get("location") not in (None, "app-profile"):
                continue  # built into Firefox, not installed by the user
            locale = _obj(addon.get("defaultLocale"))
            granted = _obj(addon.get("userPermissions"))
            perms = _strs(granted.get("permissions")) + _strs(granted.get("origins"))
            yield Seen(
                browser.id,
                browser.name,
                profile.name,
                str(addon.get("id", "")).lower(),
                str(locale.get("name") or addon.get("id")),
                str(addon.get("version", "")),
                str(locale.get("description") or ""),
                profile / "extensions.json",
                tuple(sorted({"<all_urls>" if p in ALL_SITES else str(p) for p in perms})),
            )


def browser_extensions(ctx: ScanContext) -> Iterator[Seen]:
    for browser in ctx.signatures.extensions.browsers:
        for pattern in browser.paths.for_os(ctx.os.value):
            for root in ctx.expand(pattern):
                yield from (
                    _firefox(browser, root) if browser.firefox else _chromium(ctx, browser, root)
                )


def _severity(kind: FindingKind, risky: list[str]) -> Severity:
    if kind is FindingKind.IDE_EXTENSION:
        return Severity.LOW
    if SESSION_PERMISSIONS & set(risky):
        return Severity.MEDIUM
    if "<all_urls>" in risky and {"scripting", "webRequest"} & set(risky):
        return Severity.MEDIUM
    return Severity.LOW


class ExtensionsDetector(Detector):
    id = DetectorId.EXTENSIONS
    sources = (SourceId.EXTENSIONS,)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        sigs = ctx.signatures.extensions
        words = _ai_words(sigs)
        for seen in [*ide_extensions(ctx), *jetbrains_plugins(ctx)]:
            known = sigs.ide.get(seen.ext_id) or sigs.jetbrains.get(seen.ext_id)
            finding = self._judge(ctx, FindingKind.IDE_EXTENSION, seen, known, words)
            if finding:
                out.findings.append(finding)
        for seen in browser_extensions(ctx):
            finding = self._judge(
                ctx, FindingKind.BROWSER_EXTENSION, seen, sigs.browser.get(seen.ext_id), words
            )
            if finding:
                out.findings.append(finding)
        return out

    def _judge(
        self,
        ctx: ScanContext,
        kind: FindingKind,
        seen: Seen,
        known: KnownExtension | None,
        words: re.Pattern[str],
    ) -> Finding | None:
        if known is None and not words.search(f"{seen.name} {seen.description}"):
            return None
        risky = sorted(set(seen.permissions) & ctx.signatures.extensions.risky_permissions)
        return Finding(
            id=finding_id(self.id, kind, seen.where, seen.profile, seen.ext_id, ctx.user),
            detector=self.id,
            kind=kind,
            source=SourceId.EXTENSIONS,
            title=f"{known.name if known else seen.name} in {seen.where_name}",
            severity=_severity(kind, risky),
            vendor=known.vendor if known else None,
            user=ctx.user,
            location=Location(path=ctx.display(seen.path)),
            aam_controls=AAM_INVENTORY + (["AAM-3.5"] if SESSION_PERMISSIONS & set(risky) else []),
            evidence={
                "extension_id": seen.ext_id,
                "name": seen.name,
                "version": seen.version,
                "host": seen.where,
                "host_name": seen.where_name,
                "profile": seen.profile,
                "match": "known" if known else "heuristic",
                "risky_permissions": risky,
                "permissions": list(seen.permissions),
            },
        )
