"""The detector axis: a detector turns what sources read into findings.

A detector has a stable id, says which sources it covers, and returns its findings and
warnings; it never raises for one bad file or entry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from shadowmap.agent.context import ScanContext
from shadowmap.agent.models import DetectorId, Finding, ScanWarning, SourceId


@dataclass
class DetectorOutput:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    # Sources whose detector failed: the report must not claim to cover them, or the
    # collector would resolve every finding they had.
    failed: set[SourceId] = field(default_factory=set)

    def warn(self, source: SourceId, message: str, path: str | None = None) -> None:
        self.warnings.append(ScanWarning(source=source, message=message, path=path))

    def extend(self, other: DetectorOutput) -> None:
        self.findings.extend(other.findings)
        self.warnings.extend(other.warnings)
        self.failed |= other.failed


class Detector(ABC):
    id: DetectorId
    sources: tuple[SourceId, ...]

    @abstractmethod
    def run(self, ctx: ScanContext, sources: frozenset[SourceId]) -> DetectorOutput:
        """Findings for the given sources (a subset of ``self.sources``)."""
