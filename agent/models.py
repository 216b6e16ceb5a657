"""The finding and report models: schema v1 of what every part of shadowmap exchanges.

docs/report-schema.json is generated from these models (``shadowmap schema``) and a
test keeps the two equal. Detector ids, finding kinds and source ids are stable
strings: stored findings and fingerprints depend on them, so they are never renamed.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class DetectorId(str, Enum):
    """One detector per concern (docs/findings.md lists what each one reports)."""

    APPS = "apps"
    MCP = "mcp"
    SECRETS = "secrets"
    EXTENSIONS = "extensions"
    MODEL_SERVERS = "model_servers"
    BROWSER_SESSION = "browser_session"


class FindingKind(str, Enum):
    APP = "app"  # an AI desktop app or AI browser, installed or running
    CLI_AGENT = "cli_agent"  # an AI agent for the terminal, installed, configured or running
    MCP_SERVER = "mcp_server"  # one server entry in an MCP client's configuration
    SECRET = "secret"  # a hardcoded credential (redacted; only its keyed hash travels)
    SECRET_REFERENCE = "secret_reference"  # a credential kept in a secret store, by reference
    IDE_EXTENSION = "ide_extension"
    BROWSER_EXTENSION = "browser_extension"
    MODEL_SERVER = "model_server"  # a local model server listening on a socket
    MODEL_FILES = "model_files"  # model weights in a known cache
    BROWSER_SESSION = "browser_session"  # automation borrowing a person's browser session


class SourceId(str, Enum):
    """What a report can cover; a covered source's findings are its full current state."""

    APPS = "apps"  # installed applications and CLI agents (filesystem)
    PROCESSES = "processes"  # running processes (live)
    MCP = "mcp"  # MCP client configuration files
    SECRETS = "secrets"  # credential-bearing files under the home
    EXTENSIONS = "extensions"  # IDE and browser extension folders
    MODEL_SERVERS = "model_servers"  # listening sockets of model servers (live)
    MODEL_FILES = "model_files"  # model weights in the known caches
    BROWSER_SESSION = "browser_session"  # configs, files and code that reach browser sessions
    REPO = "repo"  # a repository's working tree and history (scan-repo)


LIVE_SOURCES = frozenset({SourceId.PROCESSES, SourceId.MODEL_SERVERS})


class OSName(str, Enum):
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(Frozen):
    """Where a finding was seen. ``pointer`` is an RFC 6901 pointer inside the file."""

    path: str
    pointer: str | None = None
    line: int | None = Field(default=None, ge=1)
    column: int | None = Field(default=None, ge=1)
    commit: str | None = None
    author: str | None = None
    committed_at: str | None = None


class SecretEvidence(Frozen):
    """All that is ever kept of a credential: never its value."""

    kind: str  # a signature id from signatures/secrets.yaml
    preview: str  # the vendor's public prefix and the last four characters
    length: int


class Finding(Frozen):
    id: str
    detector: DetectorId
    kind: FindingKind
    source: SourceId
    title: str
    severity: Severity
    vendor: str | None = None
    user: str | None = None
    location: Location | None = None
    aam_controls: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    secret: SecretEvidence | None = None
    value_hash: str | None = None  # keyed HMAC-SHA256 of a secret's value
    definition_hash: str | None = None  # an MCP server's command, args, URL and env names


class ScanWarning(Frozen):
    """A problem with one file or one entry; the scan went on."""

    source: SourceId
    message: str
    path: str | None = None


class HostInfo(Frozen):
    machine_id: str
    hostname: str
    os: OSName
    os_version: str = ""
    arch: str = ""


class RepositoryInfo(Frozen):
    """What scan-repo scanned; a remote URL is kept without any credential in it."""

    path: str
    head: str | None = None
    branch: str | None = None
    remote: str | None = None
    history: bool = True
    commits_scanned: int = 0


class ScannerInfo(Frozen):
    name: str = "shadowmap"
    version: str
    signatures_version: str


class Report(Frozen):
    schema_version: int = SCHEMA_VERSION
    report_id: str
    created_at: str
    scanner: ScannerInfo
    host: HostInfo
    repository: RepositoryInfo | None = None  # set by scan-repo only
    users: list[str]
    sources: list[SourceId]
    fingerprint_scope: str  # whose key made the value hashes: "org:<id>", "env" or "local:<id>"
    policy: str | None = None  # digest of the policy that marked findings sanctioned or not
    findings: list[Finding]
    warnings: list[ScanWarning] = Field(default_factory=list)
    filters_used: list[str] = Field(default_factory=list)


def finding_id(detector: DetectorId, kind: FindingKind, *parts: str | None) -> str:
    """A stable id from what survives edits: path and pointer, never a line number."""
    material = "\x1f".join([detector.value, kind.value, *[p or "" for p in parts]])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def report_json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://shadowmap.invalid/report-schema/v{SCHEMA_VERSION}.json"
    return schema
