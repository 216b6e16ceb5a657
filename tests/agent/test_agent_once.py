"""`shadowmap agent once` against a real collector process on loopback, end to end."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import fakekeys

ENROLL_SECRET = "enrol-" + "Vq3Lk9Zp2Wm7Rt4Y"
ADMIN_TOKEN = "admin-" + "Hc8Nf2Qs6Jx1Bv5K"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Collector:
    url: str
    db: Path
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET,
               "SHADOWMAP_ADMIN_TOKEN": ADMIN_TOKEN}
        host_port = self.url.removeprefix("http://")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shadowmap.agent.cli", "collector", "serve",
             "--listen", host_port, "--db", f"sqlite:///{self.db}"],
            env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("collector did not start: " + self.log.read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None

    def api(self, path: str) -> list[dict]:
        response = requests.get(self.url + path, timeout=10,
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        response.raise_for_status()
        return response.json()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    col = Collector(f"http://127.0.0.1:{free_port()}", tmp_path / "collector.sqlite",
                    tmp_path / "collector.log")
    col.start()
    yield col
    col.stop()


@pytest.fixture
def planted(make_tree) -> tuple[Path, str]:
    key = fakekeys.anthropic(seed=41)
    home = make_tree("home", {
        ".cursor/mcp.json": json.dumps({"mcpServers": {
            "notion": {"command": "npx", "args": ["-y", "@notionhq/notion-mcp-server"]}}}),
        "src/app/.env": f"ANTHROPIC_API_KEY={key}\n",
    })
    return home, key


def agent_once(shadowmap, collector: Collector, home: Path, **env: str):
    env = {"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET, **env}
    return shadowmap("agent", "once", "--collector", collector.url, "--home", str(home),
                     "--no-live", env=env)


def test_two_runs_leave_one_device_and_no_duplicates(collector, planted, shadowmap, state_dir):
    home, key = planted
    first = agent_once(shadowmap, collector, home)
    assert first.code == 0, first.stderr
    assert "enrolled" in first.stderr and "sent 1, 0 waiting" in first.stderr
    second = agent_once(shadowmap, collector, home)
    assert second.code == 0 and "enrolled" not in second.stderr

    devices = collector.api("/api/v1/devices")
    assert len(devices) == 1
    findings = collector.api("/api/v1/findings")
    titles = sorted(f["title"] for f in findings)
    assert titles == [
        "Anthropic API key in .env", "Cursor configured", "MCP server notion in Cursor (user)"
    ]
    assert devices[0]["finding_counts"]["open"] == 3
    secret = next(f for f in findings if f["kind"] == "secret")
    assert secret["secret"]["preview"].endswith(key[-4:])
    assert secret["value_hash"].startswith("hmac-sha256:")


def test_the_key_reaches_no_output_spool_log_or_database(collector, planted, shadowmap, state_dir):
    home, key = planted
    run = agent_once(shadowmap, collector, home)
    assert run.code == 0, run.stderr
    collector.stop()  # flush and close the database before reading its bytes
    places = {
        "agent output": run.everything.encode(),
        "collector log": collector.log.read_bytes(),
        **{f"state {p.name}": p.read_bytes() for p in state_dir.rglob("*") if p.is_file()},
        **{f"db {p.name}": p.read_bytes() for p in collector.db.parent.glob("collector.sqlite*")},
    }
    assert any(name.startswith("db ") for name in places)
    for name, data in places.items():
        assert key.encode() not in data, f"raw key found in {name}"
        assert key[4:-4].encode() not in data, f"part of the key found in {name}"


def test_a_report_that_cannot_be_sent_waits_in_the_spool(collector, planted, shadowmap, state_dir):
    home, _ = planted
    assert agent_once(shadowmap, collector, home).code == 0
    collector.stop()

    offline = agent_once(shadowmap, collector, home)
    assert offline.code == 0, offline.stderr
    assert "sent 0, 1 waiting in the spool" in offline.stderr
    with sqlite3.connect(state_dir / "spool.sqlite") as db:
        (body,) = db.execute("SELECT body FROM reports").fetchone()
    waiting = json.loads(body)

    collector.start()
    back = agent_once(shadowmap, collector, home)
    assert back.code == 0 and "sent 2, 0 waiting" in back.stderr
    assert len(collector.api("/api/v1/devices")) == 1
    assert len(collector.api("/api/v1/findings")) == 3

    enrollment = json.loads((state_dir / "enrollment.json").read_text())
    again = requests.post(collector.url + "/api/v1/reports", data=json.dumps(waiting), timeout=10,
                          headers={"Authorization": f"Bearer {enrollment['device_token']}",
                                   "Content-Type": "application/json"})
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_a_removed_finding_is_resolved(collector, planted, shadowmap):
    home, _ = planted
    assert agent_once(shadowmap, collector, home).code == 0
    (home / "src/app/.env").write_text("DEBUG=1\n")
    assert agent_once(shadowmap, collector, home).code == 0
    open_titles = sorted(f["title"] for f in collector.api("/api/v1/findings"))
    resolved = collector.api("/api/v1/findings?status=resolved")
    assert open_titles == ["Cursor configured", "MCP server notion in Cursor (user)"]
    assert [f["title"] for f in resolved] == ["Anthropic API key in .env"]


def test_the_overview_page_shows_device_and_findings(collector, planted, shadowmap):
    home, _ = planted
    assert agent_once(shadowmap, collector, home).code == 0
    session = requests.Session()
    assert "login" in session.get(collector.url + "/", timeout=10).url
    login = session.post(collector.url + "/login", data={"token": ADMIN_TOKEN}, timeout=10)
    assert login.ok
    page = session.get(collector.url + "/", timeout=10).text
    assert socket.gethostname() in page
    assert "MCP server notion in Cursor (user)" in page and "Anthropic API key" in page


def test_enrolment_problems_are_clear(collector, planted, shadowmap):
    home, _ = planted
    no_secret = shadowmap("agent", "once", "--collector", collector.url, "--home", str(home))
    assert no_secret.code == 2 and "SHADOWMAP_ENROLL_SECRET" in no_secret.stderr
    wrong = agent_once(shadowmap, collector, home, SHADOWMAP_ENROLL_SECRET="not-the-secret-at-all")
    assert wrong.code == 3 and "refused the enrol secret" in wrong.stderr
    assert "Traceback" not in no_secret.stderr + wrong.stderr


def test_plain_http_beyond_loopback_is_refused(planted, shadowmap):
    home, _ = planted
    run = shadowmap("agent", "once", "--collector", "http://192.0.2.10:8443", "--home", str(home),
                    env={"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET})
    assert run.code == 2 and "refusing plain HTTP" in run.stderr


def test_collector_unreachable_before_enrolment_exits_3(planted, shadowmap):
    home, _ = planted
    run = shadowmap("agent", "once", "--collector", f"http://127.0.0.1:{free_port()}",
                    "--home", str(home), env={"SHADOWMAP_ENROLL_SECRET": ENROLL_SECRET})
    assert run.code == 3 and "unreachable" in run.stderr


def test_ci_hashes_match_the_fleet_with_the_collectors_key(collector, planted, shadowmap, tmp_path):
    """The key `collector fingerprint-key` prints makes scan-repo's hashes equal the agents'."""
    home, key = planted
    assert agent_once(shadowmap, collector, home).code == 0
    printed = shadowmap("collector", "fingerprint-key", "--db", f"sqlite:///{collector.db}")
    assert printed.code == 0, printed.stderr
    env = dict(line.split("=", 1) for line in printed.stdout.split())
    assert set(env) == {"SHADOWMAP_FINGERPRINT_KEY", "SHADOWMAP_FINGERPRINT_SCOPE"}
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.env").write_text(f"ANTHROPIC_API_KEY={key}\n")
    run = shadowmap("scan-repo", str(repo), "--format", "json", env=env)
    assert run.code == 1, run.stderr
    repo_hash = json.loads(run.stdout)["findings"][0]["value_hash"]
    fleet = next(f for f in collector.api("/api/v1/findings") if f["kind"] == "secret")
    assert repo_hash == fleet["value_hash"]
    assert json.loads(run.stdout)["fingerprint_scope"] == env["SHADOWMAP_FINGERPRINT_SCOPE"]
