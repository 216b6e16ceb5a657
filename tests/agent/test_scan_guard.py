"""A detector that fails costs its own sources only: warned, and left out of the report."""

from __future__ import annotations

from shadowmap.agent import scan
from shadowmap.agent.context import make_context
from shadowmap.agent.detectors.interface import Detector
from shadowmap.agent.detectors.mcp import MCPDetector
from shadowmap.agent.models import DetectorId, SourceId
from shadowmap.agent.redact import FingerprintKey
from shadowmap.signatures import builtin_pack


class Broken(Detector):
    id = DetectorId.SECRETS
    sources = (SourceId.SECRETS,)

    def run(self, ctx, sources):
        raise KeyError("a bug")


def test_a_failing_detector_is_a_warning_and_its_source_is_not_covered(monkeypatch, make_tree):
    home = make_tree("home", {".cursor/mcp.json": '{"mcpServers": {"a": {"command": "npx"}}}'})
    monkeypatch.setattr(scan, "all_detectors", lambda: [Broken(), MCPDetector()])
    ctx = make_context(home=home, root=make_tree("root", {}), os_name=None, live=False,
                       key=FingerprintKey(b"k" * 32, "test"), signatures=builtin_pack())
    report = scan.scan_machine([ctx], frozenset({SourceId.SECRETS, SourceId.MCP}))
    assert report.sources == [SourceId.MCP]
    assert [f.evidence["server"] for f in report.findings] == ["a"]
    assert [w.message for w in report.warnings] == ["detector secrets failed (KeyError)"]
