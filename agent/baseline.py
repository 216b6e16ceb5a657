"""Baseline files: findings already known, so that CI reports only new ones.

Reads ours and detect-secrets' `.secrets.baseline`; writes ours only. Ours holds what a
report holds (id, kind, path, preview, length, keyed hash), never a value or a plain hash
of one. detect-secrets stores SHA-1 of each raw secret, so matching one of its baselines
hashes the value in memory and compares; that hash is never written or logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowmap.agent.errors import UsageError
from shadowmap.agent.models import Finding

logger = logging.getLogger(__name__)

# Our baseline format's version; a new version gets a migration in _ours().
BASELINE_VERSION = 1
BASELINE_MARK = "shadowmap_baseline"
# detect-secrets 1.x baseline keys (detect_secrets/core/baseline.py: version,
# plugins_used, filters_used, results{filename: [{type, filename, hashed_secret, ...}]}).
DETECT_SECRETS_KEYS = ("plugins_used", "results")


@dataclass
class Baseline:
    """What a baseline file says is known: by our ids, by a key-independent description
    (when made under another fingerprint key), or by detect-secrets' SHA-1 per file."""

    scope: str | None = None
    ids: set[str] = field(default_factory=set)
    described: set[tuple[str, str, str, int]] = field(default_factory=set)
    sha1_by_file: set[tuple[str, str]] = field(default_factory=set)

    def knows(self, finding: Finding, value: str, scope: str) -> bool:
        if finding.id in self.ids and self.scope == scope:
            return True
        if self.described and _description(finding) in self.described:
            return True
        if not self.sha1_by_file or finding.location is None:
            return False
        digest = hashlib.sha1(value.encode("utf-8")).hexdigest()  # detect-secrets' hash
        return (finding.location.path, digest) in self.sha1_by_file


def _description(finding: Finding) -> tuple[str, str, str, int]:
    secret, loc = finding.secret, finding.location
    if secret is None or loc is None:
        return ("", "", "", 0)
    return (secret.kind, loc.path, secret.preview, secret.length)


def load(path: Path) -> Baseline:
    """A baseline file, ours or detect-secrets'; a UsageError when it is neither."""
    hint = "give a file written by --write-baseline, or detect-secrets' .secrets.baseline"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc.strerror}", hint=hint) from exc
    except ValueError as exc:
        raise UsageError(f"the baseline {path} is not JSON: {exc}", hint=hint) from exc
    if isinstance(data, dict) and BASELINE_MARK in data:
        return _ours(data, path, hint)
    if isinstance(data, dict) and all(k in data for k in DETECT_SECRETS_KEYS):
        return _detect_secrets(data)
    raise UsageError(f"{path} is not a baseline shadowmap can read", hint=hint)


def _ours(data: dict[str, Any], path: Path, hint: str) -> Baseline:
    if data.get(BASELINE_MARK) != BASELINE_VERSION:
        raise UsageError(f"{path}: baseline version {data.get(BASELINE_MARK)!r}", hint=hint)
    baseline = Baseline(scope=data.get("fingerprint_scope"))
    for entry in data.get("findings", []):
        baseline.ids.add(str(entry.get("id", "")))
        baseline.described.add(
            (entry.get("kind", ""), entry.get("path", ""), entry.get("preview", ""),
             int(entry.get("length", 0)))
        )  # fmt: skip
    return baseline


def _detect_secrets(data: dict[str, Any]) -> Baseline:
    baseline = Baseline()
    results = data.get("results") or {}
    for filename, entries in results.items():
        for entry in entries or []:
            if isinstance(entry, dict) and entry.get("hashed_secret"):
                baseline.sha1_by_file.add((str(filename), str(entry["hashed_secret"])))
    logger.info("detect-secrets baseline: %d known secrets", len(baseline.sha1_by_file))
    return baseline


def write(path: Path, findings: list[Finding], scope: str) -> None:
    """Our baseline of these findings, written whole or not at all."""
    entries = [
        {
            "id": f.id,
            "kind": f.secret.kind,
            "path": f.location.path,
            "preview": f.secret.preview,
            "length": f.secret.length,
            "value_hash": f.value_hash,
        }
        for f in findings
        if f.secret is not None and f.location is not None
    ]
    document = {
        BASELINE_MARK: BASELINE_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint_scope": scope,
        "findings": sorted(entries, key=lambda e: (e["path"], e["kind"], e["id"])),
    }
    text = json.dumps(document, indent=2) + "\n"
    try:
        if path.exists() and not path.is_file():  # /dev/stdout, a pipe: never replace those
            path.write_text(text, encoding="utf-8")
            return
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise UsageError(f"cannot write the baseline {path}: {exc.strerror}") from exc
