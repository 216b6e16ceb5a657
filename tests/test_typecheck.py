"""The package passes strict mypy (STYLE.md: strict on the package, looser for tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]


def test_strict_mypy_is_clean():
    run = subprocess.run(["bash", str(TOP / "scripts" / "typecheck.sh")], capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
