"""The PyInstaller onedir build, made once from a normal install: it prints its version,
scans a test home, reports to a collector (once and as the daemon) and installs as a .deb.

SHADOWMAP_PYINSTALLER_DIST=<dist/shadowmap> reuses a build (packaging/pyinstaller/build.sh).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fakekeys
from tests.agent.test_agent_once import ENROLL_SECRET
from tests.agent.test_daemon import NOTION, Collector, free_port, titles, wait_for
from tests.agent.test_packaging_files import PKG, build_deb, dpkg_root, needs_dpkg

pytestmark = [pytest.mark.slow, pytest.mark.packaging]

# A build takes about two minutes on this 2-core machine; pip may fetch wheels first.
BUILD_TIMEOUT = 1800


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    reused = os.environ.get("SHADOWMAP_PYINSTALLER_DIST")
    if reused:
        return Path(reused) / "shadowmap"
    out = tmp_path_factory.mktemp("pyinstaller")
    run = subprocess.run(
        ["bash", str(PKG / "pyinstaller/build.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if (
        run.returncode != 0
        and "pyinstaller" in run.stderr.lower()
        and "no matching" in run.stderr.lower()
    ):
        pytest.skip("PyInstaller cannot be installed here: " + run.stderr[-300:])
    assert run.returncode == 0, run.stderr[-3000:]
    return out / "shadowmap" / "shadowmap"


def frozen(binary: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    return subprocess.run(
        [str(binary), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
        check=False,
    )


@pytest.fixture
def home(make_tree) -> Path:
    return make_tree(
        "home",
        {
            ".cursor/mcp.json": json.dumps({"mcpServers": NOTION}),
            "src/app/.env": f"ANTHROPIC_API_KEY={fakekeys.anthropic(seed=11)}\n",
        },
    )


@pytest.fixture
def collector(tmp_path) -> Iterator[Collector]:
    col = Collector(f"http://127.0.0.1:{free_port()}", tmp_path / "c.sqlite", tmp_path / "c.log")
    col.start()
    yield col
    col.stop()


def test_the_binary_prints_its_version_and_scans_a_home(binary, home):
    version = frozen(binary, "--version")
    assert version.returncode == 0 and version.stdout.startswith("shadowmap ")
    scan = frozen(binary, "scan", "--home", str(home), "--no-live", "--format", "json")
    assert scan.returncode == 0, scan.stderr
    found = sorted(f["title"] for f in json.loads(scan.stdout)["findings"])
    assert found == [
        "Anthropic API key in .env",
        "Cursor configured",
        "MCP server notion in Cursor (user)",
    ]


def test_the_binary_reports_to_a_collector(binary, home, collector, tmp_path):
    env = {"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET, "SHADOWMAP_STATE_DIR": str(tmp_path / "s1")}
    once = frozen(
        binary,
        "agent",
        "once",
        "--collector",
        collector.url,
        "--home",
        str(home),
        "--no-live",
        env=env,
    )
    assert once.returncode == 0, once.stderr
    assert "Anthropic API key in .env" in titles(collector)


def test_the_binary_runs_as_the_daemon_with_its_scan_child(binary, home, collector, tmp_path):
    state = tmp_path / "s2"
    env = {"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET, "SHADOWMAP_MACHINE_ID": "frozen-daemon"}
    proc = subprocess.Popen(
        [
            str(binary),
            "agent",
            "run",
            "--collector",
            collector.url,
            "--home",
            str(home),
            "--no-live",
            "--state-dir",
            str(state),
        ],
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    try:
        log = state / "agent.log"
        wait_for(
            "a stored report", lambda: log.exists() and "stored" in log.read_text(), timeout=120
        )
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert len(collector.api("/api/v1/devices")) == 1


@needs_dpkg
def test_the_deb_of_the_build_installs_and_runs(binary, tmp_path):
    deb = build_deb(binary.parent, tmp_path / "out")
    root = tmp_path / "root"
    assert dpkg_root(root, "-i", str(deb)).returncode == 0
    installed = frozen(root / "opt/shadowmap/shadowmap", "--version")
    assert installed.returncode == 0 and installed.stdout.startswith("shadowmap ")
