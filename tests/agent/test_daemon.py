"""`shadowmap agent run` against a real collector on loopback: kill -9, outages, re-enrolment."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from shadowmap.agent import daemon, enrollment
from tests import fakekeys
from tests.agent.test_agent_once import ENROLL_SECRET, Collector, free_port

# Short enough for tests, long enough that a 2-core box shared with others keeps up.
FAST = {
    "SHADOWMAP_DEBOUNCE": "0.3",
    "SHADOWMAP_MIN_RESCAN_GAP": "0.5",
    "SHADOWMAP_BACKOFF_BASE": "0.5",
    "SHADOWMAP_BACKOFF_MAX": "2",
    "SHADOWMAP_JITTER": "0",
}
NOTION = {"notion": {"command": "npx", "args": ["-y", "@notionhq/notion-mcp-server"]}}
GITHUB = {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}}


def wait_for(what: str, check: Callable[[], object], timeout: float = 60, log: Path | None = None):
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


@dataclass
class Agent:
    """One `shadowmap agent run` child process, its config file written by the test."""

    collector: Collector
    home: Path
    state: Path
    log: Path
    settings: dict[str, object] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def config_file(self) -> Path:
        lines = [f'collector = "{self.collector.url}"', f'home = "{self.home}"', "live = false"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.settings.items()]
        path = self.state.parent / "agent.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
        env.update({"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET, **FAST, **self.env})
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shadowmap.agent.cli",
                "-v",
                "agent",
                "run",
                "--config",
                str(self.config_file()),
                "--state-dir",
                str(self.state),
                "--log-file",
                str(self.state / "agent.log"),
            ],
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        self.proc = None
        return code

    def spooled(self) -> list[tuple[str, list[str], bytes]]:
        path = self.state / "spool.sqlite"
        if not path.exists():
            return []
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT report_id, sources, body FROM reports").fetchall()
        return [(r[0], json.loads(r[1]), bytes(r[2])) for r in rows]


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    col = Collector(
        f"http://127.0.0.1:{free_port()}", tmp_path / "collector.sqlite", tmp_path / "collector.log"
    )
    col.start()
    yield col
    col.stop()


@pytest.fixture
def home(make_tree) -> Path:
    return make_tree("home", {".cursor/mcp.json": json.dumps({"mcpServers": NOTION})})


@pytest.fixture
def agent(collector: Collector, home: Path, tmp_path: Path) -> Iterator[Agent]:
    state = tmp_path / "agent-state"
    state.mkdir()
    runner = Agent(collector, home, state, tmp_path / "agent.out")
    yield runner
    runner.stop()


def titles(collector: Collector, status: str = "open") -> list[str]:
    return sorted(f["title"] for f in collector.api(f"/api/v1/findings?status={status}"))


def stored_reports(collector: Collector) -> list[tuple[str, int]]:
    with sqlite3.connect(collector.db) as db:
        return db.execute("SELECT report_id, finding_count FROM reports").fetchall()


def test_a_change_made_offline_reaches_the_collector_once_across_kill_9(collector, agent, home):
    agent.start()
    wait_for(
        "the first report",
        lambda: "MCP server notion in Cursor (user)" in titles(collector),
        log=agent.log,
    )
    collector.stop()

    (home / ".cursor/mcp.json").write_text(json.dumps({"mcpServers": GITHUB}))
    waiting = wait_for(
        "the change in the spool",
        lambda: [row for row in agent.spooled() if row[1] == ["mcp"]],
        log=agent.log,
    )
    agent.kill9()

    collector.start()
    agent.start()
    wait_for("the spool to drain", lambda: not agent.spooled(), log=agent.log)
    wait_for(
        "github at the collector",
        lambda: "MCP server github in Cursor (user)" in titles(collector),
        log=agent.log,
    )
    assert titles(collector).count("MCP server github in Cursor (user)") == 1
    assert titles(collector, "resolved") == ["MCP server notion in Cursor (user)"]
    report_id = waiting[0][0]
    assert [r for r in stored_reports(collector) if r[0] == report_id] == [(report_id, 1)]
    assert len(collector.api("/api/v1/devices")) == 1


def test_a_report_stored_but_not_acknowledged_is_counted_once(collector, agent, home):
    """The collector stored it, then the agent died before it removed it: the resend is a
    duplicate and changes nothing."""
    agent.start()
    wait_for("enrolment", lambda: titles(collector), log=agent.log)
    collector.stop()
    (home / ".cursor/mcp.json").write_text(json.dumps({"mcpServers": {**NOTION, **GITHUB}}))
    report_id, _, body = wait_for(
        "the change in the spool", lambda: agent.spooled(), log=agent.log
    )[0]
    agent.kill9()

    collector.start()
    token = json.loads((agent.state / "enrollment.json").read_text())["device_token"]
    first = requests.post(
        collector.url + "/api/v1/reports",
        data=body,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert first.status_code == 201
    seen = {f["id"]: f["first_seen"] for f in collector.api("/api/v1/findings")}

    agent.start()
    wait_for("the resend", lambda: not agent.spooled(), log=agent.log)
    assert [r for r in stored_reports(collector) if r[0] == report_id] == [(report_id, 2)]
    assert {f["id"]: f["first_seen"] for f in collector.api("/api/v1/findings")} == seen
    assert "duplicate" in (agent.state / "agent.log").read_text()


def heartbeats(collector) -> int:
    with sqlite3.connect(collector.db) as db:
        row = db.execute("SELECT heartbeats FROM devices").fetchone()
    return int(row[0]) if row else 0


def test_unchanged_scans_send_heartbeats_not_reports(collector, agent):
    agent.settings = {"interval": 1.5, "heartbeat_interval": 1}
    agent.start()
    wait_for("the first report", lambda: stored_reports(collector), log=agent.log)
    wait_for("heartbeats", lambda: heartbeats(collector) >= 3, log=agent.log)
    bodies = [
        json.loads(b)
        for (b,) in sqlite3.connect(collector.db)
        .execute("SELECT body FROM reports ORDER BY id")
        .fetchall()
    ]
    # The second scan sends MCP again once: its definition_change goes from "new" to
    # "unchanged". After that nothing changes, and only heartbeats (no sources) go; the
    # collector counts them on the device and keeps no report row for them.
    assert len(bodies[0]["sources"]) > 1
    assert [b["sources"] for b in bodies[1:]] in ([], [["mcp"]])
    assert "unchanged since last sent" in (agent.state / "agent.log").read_text()


def test_the_agent_enrols_again_when_the_collector_forgets_it(collector, agent, home):
    agent.env = {"SHADOWMAP_MACHINE_ID": "machine-" + "b3f1c2d4"}
    agent.start()
    wait_for("the first report", lambda: titles(collector), log=agent.log)
    again = requests.post(
        collector.url + "/api/v1/enroll",
        timeout=10,
        json={
            "enroll_secret": ENROLL_SECRET,
            "machine_id": "machine-b3f1c2d4",
            "hostname": "h",
            "os": "linux",
            "os_user": "someone",
            "email": None,
            "agent_version": "0",
        },
    )
    assert again.status_code == 200  # the agent's token no longer works

    (home / ".cursor/mcp.json").write_text(json.dumps({"mcpServers": GITHUB}))
    wait_for(
        "github at the collector",
        lambda: "MCP server github in Cursor (user)" in titles(collector),
        log=agent.log,
    )
    assert "enrolling again" in (agent.state / "agent.log").read_text()
    assert len(collector.api("/api/v1/devices")) == 1


def test_sigterm_stops_cleanly_and_the_daemon_holds_no_scanner(collector, agent):
    agent.start()
    wait_for("the first report", lambda: titles(collector), log=agent.log)
    maps = Path(f"/proc/{agent.proc.pid}/maps").read_text()
    # The scanner's native libraries (jsonschema's rpds, the keyword prefilters, YAML) stay
    # in the scan child. pydantic is not checked: agent/cli.py imports models at its top.
    for library in ("rpds", "ahocorasick", "_yaml", "hyperscan"):
        assert library not in maps, f"the idle daemon has {library} loaded"
    assert agent.stop() == 0
    assert "agent stopped" in (agent.state / "agent.log").read_text()


def test_a_second_daemon_on_the_same_state_folder_is_refused(collector, agent, shadowmap):
    agent.start()
    wait_for("the first report", lambda: titles(collector), log=agent.log)
    second = shadowmap(
        "agent",
        "run",
        "--collector",
        collector.url,
        "--state-dir",
        str(agent.state),
        env={"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET},
    )
    assert second.code == 2 and "another shadowmap agent is running" in second.stderr


def test_a_missing_collector_url_is_a_usage_error(shadowmap, tmp_path):
    run = shadowmap("agent", "run", "--config", str(tmp_path / "none.toml"))
    assert run.code == 2 and "does not exist" in run.stderr
    empty = tmp_path / "agent.toml"
    empty.write_text("interval = 60\n")
    run = shadowmap("agent", "run", "--config", str(empty))
    assert run.code == 2 and "no collector URL" in run.stderr


def test_the_enrolment_file_name_is_the_one_the_worker_writes():
    assert daemon.ENROLLMENT_FILE == enrollment.ENROLLMENT_FILE


def test_a_planted_key_never_reaches_the_daemon_log(collector, agent, home):
    key = fakekeys.anthropic(seed=7)
    (home / "src").mkdir()
    (home / "src/.env").write_text(f"ANTHROPIC_API_KEY={key}\n")
    agent.start()
    wait_for(
        "the key finding", lambda: any("Anthropic" in t for t in titles(collector)), log=agent.log
    )
    assert agent.stop() == 0
    for path in [agent.log, *agent.state.rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
