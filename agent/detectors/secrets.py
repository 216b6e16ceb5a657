"""Hardcoded AI credentials in the files under a home: dotfiles, shell rc, .env, MCP configs.

A finding carries the kind, where, a redacted preview and a keyed hash; never the value.
"""

from __future__ import annotations

import logging
from pathlib import Path

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import Detector, DetectorOutput
from shadowmap.agent.mcp.locate import config_files, project_dirs
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
from shadowmap.agent.secret_engine import SecretEngine, SecretMatch
from shadowmap.agent.sources.filesystem import files_in, read_text
from shadowmap.agent.sources.interface import Unreadable

logger = logging.getLogger(__name__)

# Shell start-up files that are not dotfiles of the home itself (fish's documented path).
SHELL_FILES = ("~/.config/fish/config.fish",)
# A dotfile larger than this is history or a cache, not configuration.
MAX_DOTFILE_BYTES = 1024 * 1024
AAM_HARDCODED = ["AAM-3.3"]


def make_secret_finding(
    match: SecretMatch,
    key: FingerprintKey,
    location: Location,
    source: SourceId,
    user: str | None,
) -> Finding:
    """The one way a credential becomes a finding, for scan and scan-repo alike."""
    signature = match.signature
    value_hash = key.value_hash(match.value)
    evidence = secret_evidence(signature.id, match.value, signature.public_prefix(match.value))
    return Finding(
        id=finding_id(DetectorId.SECRETS, FindingKind.SECRET, location.path, value_hash),
        detector=DetectorId.SECRETS,
        kind=FindingKind.SECRET,
        source=source,
        title=f"{signature.name} in {Path(location.path).name}",
        severity=Severity(signature.severity),
        vendor=signature.vendor or None,
        user=user,
        location=location,
        aam_controls=AAM_HARDCODED,
        secret=evidence,
        value_hash=value_hash,
    )


def candidate_files(ctx: ScanContext) -> list[Path]:
    dotfiles = [p for p in files_in(ctx.home) if p.name.startswith(".")]
    shell = [ctx.resolve(p) for p in SHELL_FILES]
    env_files = [
        p
        for folder in project_dirs(ctx)
        for p in files_in(folder)
        if p.name == ".env" or p.name.startswith(".env.")
    ]
    configs = [c.path for c in config_files(ctx)]
    return list(dict.fromkeys(p for p in [*dotfiles, *shell, *env_files, *configs] if p.is_file()))


class SecretsDetector(Detector):
    id = DetectorId.SECRETS
    sources = (SourceId.SECRETS,)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        engine = SecretEngine(ctx.signatures)
        for path in candidate_files(ctx):
            shown = ctx.display(path)
            try:
                text = read_text(path, MAX_DOTFILE_BYTES)
            except Unreadable as exc:
                if exc.reason not in ("binary content",) and not exc.reason.startswith("larger"):
                    out.warn(SourceId.SECRETS, f"not read: {exc.reason}", shown)
                continue
            out.findings.extend(self._scan_text(ctx, engine, text, shown))
        return out

    def _scan_text(
        self, ctx: ScanContext, engine: SecretEngine, text: str, shown: str
    ) -> list[Finding]:
        found: dict[str, Finding] = {}
        for match in engine.find(text):
            location = Location(path=shown, line=match.line, column=match.column)
            finding = make_secret_finding(match, ctx.key, location, SourceId.SECRETS, ctx.user)
            found.setdefault(finding.id, finding)
        return list(found.values())
