"""MCP servers in the clients' configuration files: what each runs or reaches, and with what.

Every server is parsed on its own; a bad file or entry is a warning and the rest count.
Inline credentials that no key pattern knows become secret findings here (redacted);
those a pattern knows are the secrets detector's.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import Detector, DetectorOutput
from shadowmap.agent.detectors.secrets import make_secret_finding
from shadowmap.agent.mcp import history
from shadowmap.agent.mcp.approval import approval
from shadowmap.agent.mcp.entry import Credential, EntryReader, normalize
from shadowmap.agent.mcp.locate import ConfigFile, config_files
from shadowmap.agent.mcp.parse import PARSE_ERRORS, entries, parse_document, pointer, server_maps
from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    Location,
    Severity,
    SourceId,
    finding_id,
)
from shadowmap.agent.secret_engine import SecretEngine, SecretMatch
from shadowmap.agent.sources.filesystem import read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.signatures import SecretSignature

logger = logging.getLogger(__name__)

# Risks that make a server worth a look beyond inventory (issue 3's list).
MEDIUM_RISKS = frozenset(
    {
        "plain_http_remote",
        "broad_filesystem",
        "code_execution",
        "real_browser_profile",
        "docker_privileged",
        "docker_host_mount",
        "docker_host_network",
        "auto_approved_tools",
    }
)
# A credential written into an MCP config that no key pattern recognises.
INLINE_CREDENTIAL = SecretSignature(
    id="mcp-inline-credential",
    name="Credential written into an MCP config",
    vendor="",
    pattern="",
    keywords=(),
    prefixes=(),
    severity="high",
    source="issue 3: credentials in env, headers and arguments of MCP server entries",
)


def definition_hash(evidence: dict[str, Any]) -> str:
    material = {k: evidence[k] for k in ("transport", "command", "args", "url", "env")}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8"))
    return f"sha256:{digest.hexdigest()}"


def _service_vendor(ctx: ScanContext, evidence: dict[str, Any]) -> str:
    service = next((s for s in ctx.signatures.mcp_services if s.id == evidence["service"]), None)
    return (service.vendor or "") if service else ""


def severity(evidence: dict[str, Any]) -> Severity:
    if evidence["inline_secret"]:
        return Severity.HIGH
    if MEDIUM_RISKS & set(evidence["risks"]):
        return Severity.MEDIUM
    return Severity.LOW


@dataclass(frozen=True)
class Place:
    """One server entry's place: its file, as shown, and its pointer inside it."""

    config: ConfigFile
    shown: str
    pointer: str
    name: str


class MCPDetector(Detector):
    id = DetectorId.MCP
    sources = (SourceId.MCP,)

    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        out = DetectorOutput()
        engine = SecretEngine(ctx.signatures)
        reader = EntryReader(engine, ctx.signatures.mcp_services)
        for config in config_files(ctx):
            out.extend(self._read_file(ctx, reader, engine, config))
        self._mark_changes(ctx, out)
        return out

    def _read_file(
        self, ctx: ScanContext, reader: EntryReader, engine: SecretEngine, cfg: ConfigFile
    ) -> DetectorOutput:
        out = DetectorOutput()
        shown = ctx.display(cfg.path)
        try:
            data = parse_document(read_text(cfg.path), cfg.location.format)
        except Unreadable as exc:
            out.warn(SourceId.MCP, f"{cfg.client.name} config not read: {exc.reason}", shown)
            return out
        except PARSE_ERRORS as exc:
            message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            out.warn(SourceId.MCP, f"{cfg.client.name} config is malformed: {message}", shown)
            return out
        for trail, server_map in server_maps(data, cfg.location.servers_at):
            for name, entry in entries(server_map):
                place = Place(cfg, shown, pointer([*trail, name]), name)
                if not isinstance(entry, dict):
                    out.warn(SourceId.MCP, f"server {name!r} is not an object; skipped", shown)
                    continue
                try:
                    out.extend(self._server(ctx, reader, engine, place, entry))
                except Exception as exc:  # one entry never sinks a scan of thousands of laptops
                    logger.debug("server %s in %s", name, shown, exc_info=True)
                    kind = type(exc).__name__
                    out.warn(
                        SourceId.MCP, f"server {name!r} not understood ({kind}); skipped", shown
                    )
        return out

    def _server(
        self,
        ctx: ScanContext,
        reader: EntryReader,
        engine: SecretEngine,
        place: Place,
        entry: dict[str, Any],
    ) -> DetectorOutput:
        out = DetectorOutput()
        spec = normalize(entry, place.config.location.remote_transport)
        if spec.builtin:
            logger.debug("skipped built-in extension %s in %s", place.name, place.shown)
            return out
        evidence, inline = reader.read(spec)
        cfg = place.config
        evidence = {
            "client": cfg.client.id,
            "client_name": cfg.client.name,
            "client_vendor": cfg.client.vendor,
            "scope": cfg.location.scope,
            "plugin": cfg.location.plugin,
            "server": place.name,
            **evidence,
        }
        if cfg.location.approval and cfg.project is not None:
            evidence["approval"] = approval(ctx, cfg.project, place.name)
        out.findings.append(self._finding(ctx, place, evidence))
        out.findings.extend(self._inline_secrets(ctx, engine, place, inline, evidence))
        return out

    def _finding(self, ctx: ScanContext, place: Place, evidence: dict[str, Any]) -> Finding:
        cfg = place.config
        controls = ["AAM-1.1", "AAM-1.4"] + (["AAM-3.3"] if evidence["inline_secret"] else [])
        return Finding(
            id=finding_id(
                self.id, FindingKind.MCP_SERVER, cfg.client.id, place.shown, place.pointer
            ),
            detector=self.id,
            kind=FindingKind.MCP_SERVER,
            source=SourceId.MCP,
            title=f"MCP server {place.name} in {cfg.client.name} ({cfg.location.scope})",
            severity=severity(evidence),
            vendor=_service_vendor(ctx, evidence) or None,
            user=ctx.user,
            location=Location(path=place.shown, pointer=place.pointer),
            aam_controls=controls,
            evidence=evidence,
            definition_hash=definition_hash(evidence),
        )

    def _inline_secrets(
        self,
        ctx: ScanContext,
        engine: SecretEngine,
        place: Place,
        inline: list[Credential],
        evidence: dict[str, Any],
    ) -> list[Finding]:
        """Secret findings for inline credentials that no key pattern already reports."""
        found = []
        signature = replace(INLINE_CREDENTIAL, vendor=_service_vendor(ctx, evidence))
        for cred in inline:
            # With its name, as the file has it: kinds known by context (MISTRAL_API_KEY=...)
            # are the secrets detector's, with their kind.
            if any(True for _ in engine.find(f"{cred.name}={cred.value}")):
                continue
            value = cred.value.removeprefix("Bearer ").strip()
            where = place.pointer + pointer([cred.where, cred.name])
            location = Location(path=place.shown, pointer=where)
            match = SecretMatch(signature, value, line=1, column=1)
            found.append(make_secret_finding(match, ctx.key, location, SourceId.MCP, ctx.user))
        return found

    @staticmethod
    def _mark_changes(ctx: ScanContext, out: DetectorOutput) -> None:
        previous = history.load(ctx.state_dir)
        current: dict[str, str] = {}
        marked = []
        for finding in out.findings:
            if finding.kind is FindingKind.MCP_SERVER and finding.definition_hash:
                current[finding.id] = finding.definition_hash
                change = history.change(previous, finding.id, finding.definition_hash)
                if change is not None:
                    finding = finding.model_copy(
                        update={"evidence": {**finding.evidence, "definition_change": change}}
                    )
            marked.append(finding)
        out.findings[:] = marked
        if previous is not None:
            history.save(ctx.state_dir, current)
