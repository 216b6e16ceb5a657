"""The daemon's parts on their own: spool cap and supersede, backoff, Retry-After, watch
patterns, config layers, the scan child's priority and CPU budget."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shadowmap.agent import config as agent_config
from shadowmap.agent import state
from shadowmap.agent.client import CollectorClient, CollectorUnreachable
from shadowmap.agent.errors import ConfigError
from shadowmap.agent.schedule import Backoff
from shadowmap.agent.spool import Spool
from shadowmap.agent.watch import make_target, matches, watch_dirs


def test_the_cap_drops_the_oldest_and_counts_them(tmp_path):
    spool = Spool(tmp_path, max_bytes=250)
    for n in range(5):
        spool.put(f"r{n}", b"x" * 100, [f"source{n}"], ["alice"])
    assert [s.report_id for s in spool.pending()] == ["r3", "r4"]
    assert spool.unreported_drops() == 3
    spool.put("r5", b"y" * 10, ["source5"], ["alice"], drops_reported=3)
    assert spool.unreported_drops() == 0


def test_a_newer_report_of_the_same_sources_supersedes_a_waiting_one(tmp_path):
    spool = Spool(tmp_path)
    spool.put("old-mcp", b"{}", ["mcp"], ["alice"])
    spool.put("old-both", b"{}", ["mcp", "secrets"], ["alice"])
    spool.put("bob-mcp", b"{}", ["mcp"], ["bob"])
    spool.put("new-mcp", b"{}", ["mcp"], ["alice"])
    assert [s.report_id for s in spool.pending()] == ["old-both", "bob-mcp", "new-mcp"]
    assert spool.unreported_drops() == 0  # superseded is not lost


def test_acknowledged_digests_are_the_known_state(tmp_path):
    spool = Spool(tmp_path)
    spool.put("r1", b"{}", ["mcp"], ["alice"], {"mcp": "d1"})
    assert spool.known_digests(["alice"]) == {"mcp": "d1"}  # waiting counts as known
    spool.acknowledge("r1")
    spool.put("r2", b"{}", ["secrets"], ["alice"], {"secrets": "d2"})
    assert spool.known_digests(["alice"]) == {"mcp": "d1", "secrets": "d2"}
    spool.remove("r2")  # refused: back to what the collector has
    assert spool.known_digests(["alice"]) == {"mcp": "d1"}
    assert spool.known_digests(["bob"]) == {}


def test_an_agent_once_spool_gains_the_new_columns(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "spool.sqlite") as db:
        db.execute(
            "CREATE TABLE reports (report_id TEXT PRIMARY KEY, queued_at REAL NOT NULL,"
            " body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)"
        )
        db.execute("INSERT INTO reports VALUES ('old', 1, x'7b7d', 0, NULL)")
    spool = Spool(tmp_path)
    spool.put("new", b"{}", ["mcp"], ["alice"])
    assert [s.report_id for s in spool.pending()] == ["old", "new"]


def test_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after():
    backoff = Backoff(base=1, cap=8)
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, step in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert step / 2 <= delay <= step
    assert backoff.next_delay(retry_after=120) == 120
    backoff.reset()
    assert backoff.next_delay() <= 1


@pytest.fixture
def busy_server():
    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.send_response(503)
            self.send_header("Retry-After", "7")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_503_with_retry_after_is_a_wait_not_a_refusal(busy_server):
    with pytest.raises(CollectorUnreachable) as caught:
        CollectorClient(busy_server).post_report("token", b"{}")
    assert caught.value.retry_after == 7


HOME = "/home/alice"


@pytest.mark.parametrize(
    ("pattern", "event", "hit"),
    [
        (f"{HOME}/.cursor/mcp.json", f"{HOME}/.cursor/mcp.json", True),
        (f"{HOME}/.cursor/mcp.json", f"{HOME}/.cursor", True),  # the folder appeared
        (f"{HOME}/.cursor/mcp.json", f"{HOME}/.cursor/other.json", False),
        (f"{HOME}/.cursor/mcp.json", f"{HOME}/.bash_history", False),
        (f"{HOME}/.vscode/extensions/*", f"{HOME}/.vscode/extensions/ai.tool-1.0", True),
        (f"{HOME}/.claude/plugins/**/.mcp.json", f"{HOME}/.claude/plugins/a/b/.mcp.json", True),
        (f"{HOME}/.claude/plugins/**/.mcp.json", f"{HOME}/.claude/plugins/a/README", False),
    ],
)
def test_which_events_touch_a_watched_pattern(pattern, event, hit):
    assert matches(make_target(pattern, "mcp"), event) is hit


def test_watched_folders_are_the_nearest_existing_and_never_a_whole_home(tmp_path):
    home = tmp_path / "home"
    (home / ".claude/plugins").mkdir(parents=True)
    targets = [
        make_target(f"{home}/.cursor/mcp.json", "mcp"),  # .cursor is missing: watch the home
        make_target(f"{home}/.claude/plugins/**/.mcp.json", "mcp"),
        make_target(f"{home}/**/.env", "secrets"),
    ]
    assert watch_dirs(targets, [str(home)]) == {
        str(home): False,
        str(home / ".claude/plugins"): True,
    }


def test_config_layers_file_then_environment_then_options(tmp_path):
    file = tmp_path / "agent.toml"
    file.write_text('[agent]\ncollector = "https://c.example"\ninterval = "15m"\nwatch = false\n')
    env = {"SHADOWMAP_INTERVAL": "2h", "SHADOWMAP_ENROLL_SECRET": "from-env-" + "x" * 8}
    config = agent_config.load_config(file, {"collector": "https://o.example"}, env)
    assert (config.collector, config.interval, config.watch) == ("https://o.example", 7200, False)
    assert agent_config.enroll_secret(config) == "from-env-xxxxxxxx"
    assert "from-env" not in repr(config) and "enroll_secret" not in config.to_overrides()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('collector = "https://c"\nintervall = 5\n', "unknown setting 'intervall'"),
        ('collector = "https://c"\ninterval = "soon"\n', "not a duration"),
        ("collector = [\n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_says_what_is_wrong(tmp_path, text, message):
    file = tmp_path / "agent.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message):
        agent_config.load_config(file, environ={})


def test_the_daemon_state_folder_is_the_one_state_py_names(monkeypatch, tmp_path):
    monkeypatch.delenv("SHADOWMAP_STATE_DIR", raising=False)
    config = agent_config.AgentConfig(collector="https://c")
    assert agent_config.state_dir(config) == state.default_state_dir()
    monkeypatch.setenv("SHADOWMAP_STATE_DIR", str(tmp_path))
    assert agent_config.state_dir(config) == state.default_state_dir() == tmp_path


def test_agent_run_takes_no_secret_on_the_command_line(shadowmap):
    run = shadowmap(
        "agent", "run", "--collector", "http://127.0.0.1:9", "--enroll-secret", "s", timeout=30
    )
    assert run.code == 2 and "unrecognized arguments" in run.stderr


PROBE = """
import os, resource, psutil
from shadowmap.agent.worker import lower_priority
lower_priority(3)
print(os.nice(0), int(psutil.Process().ionice().ioclass), resource.getrlimit(resource.RLIMIT_CPU))
"""
BURN = "from shadowmap.agent.worker import lower_priority\nlower_priority(1)\nwhile True: pass\n"


def test_the_scan_child_runs_at_idle_priority_with_a_cpu_budget():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split(maxsplit=2)
    assert out[0] == "19" and out[1] == "3" and out[2].strip() == "(3, 8)"  # 3: IOPRIO_CLASS_IDLE
    burn = subprocess.run([sys.executable, "-c", BURN], capture_output=True, timeout=60)
    assert burn.returncode == -signal.SIGXCPU


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX only")
def test_the_spool_and_enrolment_are_private(tmp_path):
    Spool(tmp_path)
    assert oct((tmp_path / "spool.sqlite").stat().st_mode & 0o777) == "0o600"
    assert Path(tmp_path).exists()
