"""Hardcoded AI credentials in the files under a home, and secret-store references there.

A secret finding carries the kind, where, a redacted preview and a keyed hash, never the
value; a reference finding carries the store and the variable name, never its text.
"""

from __future__ import annotations

import logging
from pathlib import Path

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
from shadowmap.agent.redact import FingerprintKey, secret_evidence
from shadowmap.agent.secret_engine import ReferenceMatch, SecretEngine, SecretMatch
from shadowmap.agent.secret_places import (
    MAX_PROJECT_FILES,
    Place,
    fixed_files,
    project_candidates,
    project_place,
)
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.agent.text_pass import TextReader, output_for

logger = logging.getLogger(__name__)

# AAM controls (DESIGN.md): 3.3 a hardcoded credential; 1.2 an inventoried credential.
AAM_HARDCODED = ["AAM-3.3"]
AAM_INVENTORY = ["AAM-1.2"]
# Reasons a file is skipped without a warning: not what we look for, not a problem.
QUIET_REASONS = ("binary content", "not a regular file")
# Vendor ids shorter than this are not guessed from a variable name (too many false hits).
MIN_VENDOR_ID_IN_NAME = 3


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


def make_reference_finding(
    match: ReferenceMatch,
    location: Location,
    source: SourceId,
    user: str | None,
    vendor_ids: list[str],
) -> Finding:
    """A credential kept in a secret store, named where it is used: inventory, not a leak."""
    store, name = match.rule.store, match.name
    what = f"{store} reference for {name}" if name else f"{store} reference"
    evidence = {"store": store, "reference": match.rule.id, "name": name}
    return Finding(
        id=finding_id(
            DetectorId.SECRETS, FindingKind.SECRET_REFERENCE, location.path, match.rule.id, name
        ),
        detector=DetectorId.SECRETS,
        kind=FindingKind.SECRET_REFERENCE,
        source=source,
        title=f"{what} in {Path(location.path).name}",
        severity=Severity.INFO,
        vendor=_vendor_in_name(name, vendor_ids),
        user=user,
        location=location,
        aam_controls=AAM_INVENTORY,
        evidence={k: v for k, v in evidence.items() if v is not None},
    )


def _vendor_in_name(name: str | None, vendor_ids: list[str]) -> str | None:
    """The vendor a variable is named after (OPENAI_API_KEY: openai), if any."""
    if not name:
        return None
    folded = name.lower().replace("_", "").replace("-", "")
    named = [v for v in vendor_ids if len(v) >= MIN_VENDOR_ID_IN_NAME and v in folded]
    return max(named, key=len) if named else None


class SecretsDetector(Detector):
    id = DetectorId.SECRETS
    sources = (SourceId.SECRETS,)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        return output_for(ctx, SourceId.SECRETS)


class SecretTexts(TextReader):
    """The secrets detector's part in the shared file pass (agent/text_pass.py): the files
    of secret_places, keys in every one, references in config files."""

    source = SourceId.SECRETS

    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.engine = SecretEngine(ctx.signatures)
        self.vendors = sorted(ctx.signatures.vendors)
        self.known = fixed_files(ctx)
        self.projects = 0  # project files found that are not at a known place

    def fixed(self) -> dict[Path, int]:
        return {path: candidate.place.limit for path, candidate in self.known.items()}

    def in_folder(self, folder: Path, files: list[Path]) -> dict[Path, int]:
        found = project_candidates(self.ctx.home, folder, files)
        found = [c for c in found if c.path not in self.known]
        room = max(0, MAX_PROJECT_FILES - self.projects)
        self.projects += len(found)
        return {c.path: c.place.limit for c in found[:room]}

    def read(self, path: Path, text: str) -> DetectorOutput:
        out = DetectorOutput()
        shown = self.ctx.display(path)
        hits = self.engine.candidates(text.encode("utf-8", "replace"))
        for match in self.engine.find(text, shown, hits):
            location = Location(path=shown, line=match.line, column=match.column)
            out.findings.append(
                make_secret_finding(match, self.ctx.key, location, SourceId.SECRETS, self.ctx.user)
            )
        known = self.known.get(path)
        if (known.place if known else project_place(path)) is Place.CONFIG:
            for ref in self.engine.references(text, hits):
                location = Location(path=shown, line=ref.line, column=ref.column)
                out.findings.append(
                    make_reference_finding(
                        ref, location, SourceId.SECRETS, self.ctx.user, self.vendors
                    )
                )
        return out

    def unread(self, path: Path, problem: Unreadable) -> DetectorOutput:
        out = DetectorOutput()
        if problem.reason not in QUIET_REASONS and not problem.reason.startswith("larger"):
            out.warn(SourceId.SECRETS, f"not read: {problem.reason}", self.ctx.display(path))
        return out

    def finish(self) -> DetectorOutput:
        out = DetectorOutput()
        left_out = max(0, self.projects - MAX_PROJECT_FILES)
        if left_out:
            out.warn(
                SourceId.SECRETS,
                f"{left_out} project files were not read: a scan reads at most {MAX_PROJECT_FILES}",
            )
        return out
