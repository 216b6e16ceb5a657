"""osquery both ways, against a loopback extension manager made from the `osquery`
package's own Thrift code (no osquery binary can be installed here): facts come from
osquery's tables when it runs, and shadowmap's findings are served as osquery tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAKE = Path(__file__).with_name("fake_osquery.py")


@pytest.fixture
def osquery_core(tmp_path):
    """Starts the fake core with the given tables; yields (socket, registrations file)."""
    procs = []

    def start(tables: dict) -> tuple[Path, Path]:
        sock, regs = tmp_path / "osquery.em", tmp_path / "registrations.json"
        (tmp_path / "tables.json").write_text(json.dumps(tables))
        proc = subprocess.Popen(
            [sys.executable, str(FAKE), str(sock), str(tmp_path / "tables.json"), str(regs)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        procs.append(proc)
        return sock, regs

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_processes_and_sockets_come_from_osquery_when_it_runs(osquery_core, make_tree, shadowmap):
    sock, _ = osquery_core(
        {
            "processes": [
                {
                    "pid": "4242",
                    "name": "Cursor",
                    "path": "/Applications/Cursor.app/Contents/MacOS/Cursor",
                    "cmdline": "/Applications/Cursor.app/Contents/MacOS/Cursor",
                    "username": "alice",
                },
                {
                    "pid": "4343",
                    "name": "claude",
                    "path": "/usr/local/bin/claude",
                    "cmdline": "claude --dangerously-skip-permissions",
                    "username": "alice",
                },
            ],
            "listening_ports": [
                {
                    "pid": "5151",
                    "port": "1",
                    "address": "127.0.0.1",
                    "name": "ollama",
                    "path": "/usr/local/bin/ollama",
                    "cmdline": "ollama serve",
                    "username": "alice",
                },
            ],
        }
    )
    run = shadowmap(
        "scan",
        "--home",
        str(make_tree("home", {})),
        "--root",
        str(make_tree("root", {})),
        "--format",
        "json",
        env={"SHADOWMAP_OSQUERY_SOCKET": str(sock)},
    )
    assert run.code == 0, run.stderr
    running = {
        f["evidence"]["app"]: f
        for f in json.loads(run.stdout)["findings"]
        if f["source"] == "processes" and f["kind"] in ("app", "cli_agent")
    }
    assert set(running) == {"cursor", "claude-code"}
    assert all(f["evidence"]["via"] == "osquery" and f["user"] == "alice" for f in running.values())
    assert running["claude-code"]["evidence"]["risky_flags"] == ["--dangerously-skip-permissions"]


def test_without_osquery_psutil_serves(make_tree, shadowmap, tmp_path):
    run = shadowmap(
        "scan",
        "--home",
        str(make_tree("home", {})),
        "--format",
        "json",
        env={"SHADOWMAP_OSQUERY_SOCKET": str(tmp_path / "nothing.em")},
    )
    assert run.code == 0 and "Traceback" not in run.stderr


def test_findings_are_served_as_osquery_tables(osquery_core, make_tree, shadowmap, state_dir):
    from osquery.extension_client import ExtensionClient

    sock, regs = osquery_core({})
    home = make_tree(
        "home",
        {
            ".cursor/mcp.json": json.dumps(
                {
                    "mcpServers": {
                        "notion": {"command": "npx", "args": ["-y", "@notionhq/notion-mcp-server"]}
                    }
                }
            )
        },
    )
    env = {**os.environ, "SHADOWMAP_STATE_DIR": str(state_dir)}
    extension = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shadowmap.agent.cli",
            "osquery-extension",
            "--socket",
            str(sock),
            "--home",
            str(home),
            "--no-live",
            "--max-seconds",
            "60",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while not Path(f"{sock}.7").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        registered = json.loads(regs.read_text())
        assert registered["name"] == "shadowmap"
        assert set(registered["registry"]["table"]) == {
            "shadowmap_findings",
            "shadowmap_mcp_servers",
        }
        client = ExtensionClient(path=str(sock), uuid=7)
        assert client.open(timeout=5)
        ext = client.extension_client()
        assert ext.ping().code == 0
        columns = ext.call("table", "shadowmap_mcp_servers", {"action": "columns"}).response
        assert [c["name"] for c in columns][:4] == ["id", "user", "client", "scope"]
        rows = ext.call("table", "shadowmap_mcp_servers", {"action": "generate"}).response
        assert [(r["client"], r["server"], r["service"]) for r in rows] == [
            ("cursor", "notion", "notion")
        ]
        findings = ext.call("table", "shadowmap_findings", {"action": "generate"}).response
        assert {r["kind"] for r in findings} >= {"mcp_server", "app"}
        assert ext.call("table", "no_such", {"action": "generate"}).status.code == 1
        client.close()
    finally:
        extension.terminate()
        extension.wait(timeout=10)
