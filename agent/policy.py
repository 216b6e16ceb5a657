"""The organisation's policy: which AI it sanctions, the maximum key age, notifications.

Everything AI that the policy does not sanction is marked as shadow AI (AAM-1.5). With
no policy nothing is marked either way. docs/policy.md documents the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from shadowmap.agent.context import this_os
from shadowmap.agent.errors import ConfigError
from shadowmap.agent.models import Finding, FindingKind, OSName
from shadowmap.signatures import BUILTIN_DIR

logger = logging.getLogger(__name__)

# Where MDM puts the policy when no --policy is given, per OS (docs/deploy).
DEFAULT_POLICY = {
    OSName.LINUX: Path("/etc/shadowmap/policy.yaml"),
    OSName.MACOS: Path("/Library/Application Support/shadowmap/policy.yaml"),
    OSName.WINDOWS: Path("C:/ProgramData/shadowmap/policy.yaml"),
}
# Kinds that are AI an organisation sanctions or not (secrets are never "sanctioned").
JUDGED = frozenset(
    {
        FindingKind.APP,
        FindingKind.CLI_AGENT,
        FindingKind.MCP_SERVER,
        FindingKind.IDE_EXTENSION,
        FindingKind.BROWSER_EXTENSION,
        FindingKind.MODEL_SERVER,
        FindingKind.MODEL_FILES,
    }
)


@dataclass(frozen=True)
class Notifications:
    enabled: bool = True
    min_severity: str = "medium"
    max_per_hour: int = 5
    quiet_start: str | None = None
    quiet_end: str | None = None


@dataclass(frozen=True)
class Policy:
    digest: str
    vendors: frozenset[str] = frozenset()
    apps: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    model_servers: frozenset[str] = frozenset()
    mcp_servers: tuple[dict[str, str], ...] = ()
    max_key_age_days: int = 90
    notifications: Notifications = field(default_factory=Notifications)


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((BUILTIN_DIR / "schema" / "policy.json").read_text("utf-8"))
    return schema


def parse_policy(text: str, where: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"policy {where} is not YAML: {str(exc).splitlines()[0]}") from None
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=str)
    if errors:
        path = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise ConfigError(
            f"policy {where}: {path}: {errors[0].message}",
            hint="docs/policy.md describes every key",
        )
    sanctioned = data.get("sanctioned") or {}
    notes = data.get("notifications") or {}
    quiet = notes.get("quiet_hours") or {}

    def lower(key: str) -> frozenset[str]:
        return frozenset(str(v).lower() for v in sanctioned.get(key, []))

    return Policy(
        digest="sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest(),
        vendors=lower("vendors"),
        apps=lower("apps"),
        extensions=lower("extensions"),
        model_servers=lower("model_servers"),
        mcp_servers=tuple(sanctioned.get("mcp_servers", [])),
        max_key_age_days=int(data.get("max_key_age_days", 90)),
        notifications=Notifications(
            enabled=notes.get("enabled", True),
            min_severity=notes.get("min_severity", "medium"),
            max_per_hour=notes.get("max_per_hour", 5),
            quiet_start=quiet.get("start"),
            quiet_end=quiet.get("end"),
        ),
    )


def load_policy(path: Path | None) -> Policy | None:
    """The policy named on the command line (an error if bad), else the default file if
    present (a warning if bad: the agent keeps scanning), else none."""
    explicit = path is not None
    path = path or DEFAULT_POLICY[this_os()]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"policy file {path} does not exist") from None
        return None
    except OSError as exc:
        if explicit:
            raise ConfigError(f"policy file {path} cannot be read: {exc.strerror}") from None
        logger.warning("policy %s not read (%s); scanning without one", path, exc.strerror)
        return None
    try:
        return parse_policy(text, str(path))
    except ConfigError as exc:
        if explicit:
            raise
        logger.warning("%s; scanning without a policy", exc.message)
        return None


def _mcp_sanctioned(policy: Policy, evidence: dict[str, Any]) -> bool:
    fields = {
        "service": evidence.get("service"),
        "package": evidence.get("package"),
        "host": evidence.get("host"),
        "name": evidence.get("server"),
        "client": evidence.get("client"),
    }
    return any(
        all(
            fields.get(k) is not None and fnmatch(str(fields[k]).lower(), v.lower())
            for k, v in rule.items()
        )
        for rule in policy.mcp_servers
    )


def sanctioned(policy: Policy, finding: Finding) -> bool:
    if finding.vendor and finding.vendor.lower() in policy.vendors:
        return True
    ev = finding.evidence
    if finding.kind in (FindingKind.APP, FindingKind.CLI_AGENT):
        return str(ev.get("app", "")).lower() in policy.apps
    if finding.kind in (FindingKind.IDE_EXTENSION, FindingKind.BROWSER_EXTENSION):
        return str(ev.get("extension_id", "")).lower() in policy.extensions
    if finding.kind is FindingKind.MCP_SERVER:
        return _mcp_sanctioned(policy, ev)
    if finding.kind is FindingKind.MODEL_SERVER:
        return str(ev.get("server", "")).lower() in policy.model_servers
    return False


def apply(policy: Policy | None, findings: list[Finding]) -> list[Finding]:
    """Each AI finding marked sanctioned or shadow AI under the policy."""
    if policy is None:
        return findings
    judged = []
    for finding in findings:
        if finding.kind in JUDGED:
            ok = sanctioned(policy, finding)
            controls = finding.aam_controls if ok else sorted({*finding.aam_controls, "AAM-1.5"})
            evidence = {**finding.evidence, "sanctioned": ok, "shadow_ai": not ok}
            finding = finding.model_copy(update={"evidence": evidence, "aam_controls": controls})
        judged.append(finding)
    return judged
