"""The project scans its own working tree (STYLE.md, Tests): it must carry nothing that a
secret scanner, or shadowmap's browser-session checks, would flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]


def test_this_repository_has_no_findings():
    run = subprocess.run(
        [sys.executable, "-m", "shadowmap.agent.cli", "scan-repo", str(TOP), "--no-history",
         "--no-progress", "--format", "json"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    findings = json.loads(run.stdout)["findings"] if run.stdout else []
    where = [(f["location"]["path"], f["title"]) for f in findings]
    assert run.returncode == 0 and not findings, (where, run.stderr[-2000:])
