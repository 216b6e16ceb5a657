"""The detectors, registered in this one place (adding one touches no other)."""

from __future__ import annotations

from shadowmap.agent.detectors.interface import Detector


def all_detectors() -> list[Detector]:
    from shadowmap.agent.detectors.apps import AppsDetector
    from shadowmap.agent.detectors.browser_session import BrowserSessionDetector
    from shadowmap.agent.detectors.extensions import ExtensionsDetector
    from shadowmap.agent.detectors.mcp import MCPDetector
    from shadowmap.agent.detectors.model_servers import ModelServersDetector
    from shadowmap.agent.detectors.secrets import SecretsDetector

    return [
        AppsDetector(),
        MCPDetector(),
        SecretsDetector(),
        ExtensionsDetector(),
        ModelServersDetector(),
        BrowserSessionDetector(),
    ]
