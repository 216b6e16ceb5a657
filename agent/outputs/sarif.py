"""SARIF 2.1.0 from a report, as GitHub code scanning and other CI tools take it.

Carries only what the report carries: a secret's redacted preview and keyed hash,
never its value.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

from shadowmap.agent.models import Finding, FindingKind, Location, Report, ScanWarning, Severity
from shadowmap.signatures import SecretSignature, SignaturePack

logger = logging.getLogger(__name__)

# The schema and version a SARIF log names (OASIS SARIF 2.1.0, section 3.13; GitHub's
# "SARIF support for code scanning" uses the schemastore copy of the same schema).
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
# shadowmap has no public home yet; the reserved .invalid domain (RFC 2606) stands in,
# as for the report schema's $id in models.py.
INFORMATION_URI = "https://shadowmap.invalid/"
# SARIF result levels (3.27.10) for our severities: what fails a build is an error.
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by a rule's "security-severity": over 9.0 critical,
# 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low ("SARIF support for code scanning").
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.1",
}
# What a secret-store reference is (docs/secrets.md): inventory, nothing to revoke.
REFERENCE_NOTE = (
    "A credential kept in a secret store and named here by reference: inventory "
    "(AAM-1.2), not a leak. Nothing to revoke."
)
# Versioned, so that a change in how ids are made can be told apart by GitHub.
FINGERPRINT_NAME = "shadowmapFindingId/v1"
REMEDY = (
    "Revoke the credential at its vendor and issue a new one; then remove it from the "
    "code, and from the history too where the repository is shared."
)


def render(report: Report, signatures: SignaturePack) -> str:
    return json.dumps(sarif_log(report, signatures), indent=2) + "\n"


def sarif_log(report: Report, signatures: SignaturePack) -> dict[str, Any]:
    known = {s.id: s for s in signatures.secrets}
    rule_ids = sorted({_rule_id(f) for f in report.findings})
    driver = {
        "name": report.scanner.name,
        "version": report.scanner.version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule_id, report.findings, known.get(rule_id)) for rule_id in rule_ids],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [_invocation(report.warnings)],
        "results": [_result(f, rule_ids.index(_rule_id(f))) for f in report.findings],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule_id(finding: Finding) -> str:
    return (
        finding.secret.kind if finding.secret else f"{finding.detector.value}.{finding.kind.value}"
    )


def _rule(
    rule_id: str, findings: list[Finding], signature: SecretSignature | None
) -> dict[str, Any]:
    first = next(f for f in findings if _rule_id(f) == rule_id)
    title = signature.name if signature else first.title
    severity = Severity(signature.severity) if signature else first.severity
    reference = first.kind is FindingKind.SECRET_REFERENCE
    full = REFERENCE_NOTE if reference else f"{title} written into a file. {REMEDY}"
    return {
        "id": rule_id,
        "name": "".join(word.capitalize() for word in rule_id.replace(".", "-").split("-")),
        "shortDescription": {"text": f"Hardcoded {title}" if signature else title},
        "fullDescription": {"text": full},
        "help": {"text": REFERENCE_NOTE if reference else REMEDY},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {
            "tags": ["security", "secret", *first.aam_controls],
            "security-severity": SECURITY_SEVERITY[severity],
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": _rule_id(finding),
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "partialFingerprints": {FINGERPRINT_NAME: finding.id},
        "properties": _properties(finding),
    }
    if finding.location is not None:
        result["locations"] = [_location(finding.location)]
    return result


def _message(finding: Finding) -> str:
    what = finding.title
    if finding.secret is not None:
        what = f"{finding.secret.preview} ({what}, {finding.secret.length} characters)"
    loc = finding.location
    if loc is None or loc.commit is None:
        return f"{what}."
    introduced = f"{what}, introduced in commit {loc.commit} by {loc.author} at {loc.committed_at}"
    age = finding.evidence.get("key_age_days")
    return f"{introduced}; the key is {age} days old." if age is not None else f"{introduced}."


def _location(loc: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(loc.path)}}
    if loc.line is not None:
        region = {"startLine": loc.line}
        if loc.column is not None:
            region["startColumn"] = loc.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _properties(finding: Finding) -> dict[str, Any]:
    properties: dict[str, Any] = {"vendor": finding.vendor, "valueHash": finding.value_hash}
    if finding.secret is not None:
        properties["preview"] = finding.secret.preview
    loc = finding.location
    if loc is not None and loc.commit is not None:
        properties.update(commit=loc.commit, author=loc.author, committedAt=loc.committed_at)
    properties.update(
        keyFirstCommittedAt=finding.evidence.get("key_first_committed_at"),
        keyAgeDays=finding.evidence.get("key_age_days"),
        aamControls=finding.aam_controls or None,
    )
    return {k: v for k, v in properties.items() if v is not None}


def _invocation(warnings: list[ScanWarning]) -> dict[str, Any]:
    notes = [
        {
            "level": "warning",
            "message": {"text": f"{w.path}: {w.message}" if w.path else w.message},
        }
        for w in warnings
    ]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}
