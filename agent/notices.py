"""Which findings the person at the laptop is told about, and in what words.

A new key in a file they own, an MCP server the organisation has not sanctioned, a
browser-session reuse. Runs in the scan child; words carry no secret value, no preview.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from shadowmap.agent.models import Finding, FindingKind, Report, Severity
from shadowmap.agent.notify.interface import Notice, NoticeRules
from shadowmap.agent.policy import Policy

logger = logging.getLogger(__name__)

# policy.json's default for notifications.min_severity (docs/policy.md).
DEFAULT_MIN_SEVERITY = Severity.MEDIUM


def rules(policy: Policy | None) -> NoticeRules:
    if policy is None:
        return NoticeRules()
    n = policy.notifications
    return NoticeRules(n.enabled, n.max_per_hour, n.quiet_start, n.quiet_end)


def _owned_by(shown: str, root: Path, user: str | None) -> bool:
    """The file belongs to the finding's user (a key in /etc is IT's, not theirs)."""
    try:
        import pwd  # TODO(notify): file owners on Windows (GetNamedSecurityInfo)

        uid = pwd.getpwnam(user or "").pw_uid
    except (ImportError, KeyError):
        return False
    for path in (Path(shown), root / shown.lstrip("/")):
        try:
            return os.stat(path).st_uid == uid
        except OSError:
            continue
    return False


def _where(finding: Finding) -> str:
    return finding.location.path if finding.location else "this computer"


def _words(finding: Finding, root: Path) -> tuple[str, str] | None:
    where = _where(finding)
    ev = finding.evidence
    if finding.kind is FindingKind.SECRET:
        if not finding.location or not _owned_by(where, root, finding.user):
            return None
        return (
            f"{finding.title}: a key is stored in plain text",
            f"In {where}. Move it to a secret store or your keychain, then rotate it: "
            "anything that read the file may have a copy.",
        )
    if finding.kind is FindingKind.MCP_SERVER and ev.get("shadow_ai") is True:
        return (
            f"Unapproved MCP server: {ev.get('server', 'unnamed')}",
            f"{finding.title}, configured in {where}. It is not on your organisation's "
            "approved list: remove it, or ask IT to review it.",
        )
    if finding.kind is FindingKind.BROWSER_SESSION:
        return (
            finding.title,
            f"In {where}. An AI tool can act with your logged-in browser sessions; give it "
            "a separate browser profile, or turn that setting off.",
        )
    return None


def notices_for(report: Report, policy: Policy | None, root: Path) -> list[Notice]:
    """The notices this report's findings call for (the daemon drops repeats)."""
    if policy is not None and not policy.notifications.enabled:
        return []
    floor = Severity(policy.notifications.min_severity) if policy else DEFAULT_MIN_SEVERITY
    out = []
    for finding in report.findings:
        if finding.severity.rank < floor.rank or not finding.user:
            continue
        words = _words(finding, root)
        if words is not None:
            out.append(
                Notice(finding.id, finding.user, finding.kind.value, finding.severity.value, *words)
            )
    return out
