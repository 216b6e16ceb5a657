"""The shadowmap endpoint side: sources, detectors, reports, the CLI and the agent."""

from __future__ import annotations

__version__ = "0.1.0"
