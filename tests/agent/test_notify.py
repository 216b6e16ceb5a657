"""Notifications: which findings, in what words, once per finding, at a rate, outside quiet
hours; and end to end over a real session D-Bus (dbus-run-session) to a recording server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    HostInfo,
    Location,
    OSName,
    Report,
    ScannerInfo,
    Severity,
    SourceId,
)
from shadowmap.agent.notices import notices_for
from shadowmap.agent.notify.helper import serve_session
from shadowmap.agent.notify.interface import Notice, NoticeRules, Notifier
from shadowmap.agent.notify.outbox import Outbox, in_quiet_hours
from shadowmap.agent.notify.server import NoticeServer
from shadowmap.agent.policy import parse_policy
from tests import fakekeys
from tests.agent.test_daemon import Agent, Collector, free_port, wait_for

USER = os.environ.get("USER") or __import__("getpass").getuser()


def finding(kind: FindingKind, severity: Severity, path: str, **evidence) -> Finding:
    source = {FindingKind.SECRET: SourceId.SECRETS, FindingKind.MCP_SERVER: SourceId.MCP}
    return Finding(
        id=f"{kind.value}-{path}",
        detector=DetectorId.SECRETS,
        kind=kind,
        source=source.get(kind, SourceId.MCP),
        title=f"{kind.value} thing",
        severity=severity,
        user=USER,
        location=Location(path=path),
        evidence=evidence,
    )


def report(*findings: Finding) -> Report:
    return Report(
        report_id="r",
        created_at="now",
        scanner=ScannerInfo(version="0", signatures_version="0"),
        host=HostInfo(machine_id="m", hostname="h", os=OSName.LINUX),
        users=[USER],
        sources=[SourceId.SECRETS],
        fingerprint_scope="local:x",
        findings=list(findings),
    )


@pytest.fixture
def own_file(tmp_path) -> str:
    path = tmp_path / ".env"
    path.write_text("x")
    return str(path)


@pytest.mark.parametrize(
    ("kind", "severity", "evidence", "policy", "told"),
    [
        (FindingKind.SECRET, Severity.HIGH, {}, None, True),
        (FindingKind.SECRET, Severity.LOW, {}, None, False),  # under the default floor
        (FindingKind.SECRET, Severity.LOW, {}, "notifications: {min_severity: low}", True),
        (FindingKind.SECRET, Severity.HIGH, {}, "notifications: {enabled: false}", False),
        (FindingKind.MCP_SERVER, Severity.MEDIUM, {"shadow_ai": True, "server": "x"}, None, True),
        (FindingKind.MCP_SERVER, Severity.MEDIUM, {"shadow_ai": False}, None, False),
        (FindingKind.MCP_SERVER, Severity.MEDIUM, {}, None, False),  # no policy: not judged
        (FindingKind.BROWSER_SESSION, Severity.HIGH, {}, None, True),
        (FindingKind.APP, Severity.HIGH, {"shadow_ai": True}, None, False),
    ],
)
def test_who_is_told_about_what(own_file, kind, severity, evidence, policy, told):
    rules = parse_policy("schema_version: 1\n" + policy, "test") if policy else None
    notices = notices_for(report(finding(kind, severity, own_file, **evidence)), rules, Path("/"))
    assert bool(notices) is told


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_key_in_a_file_someone_else_owns_is_not_their_notice(own_file):
    os.chown(own_file, 65534, 65534)  # nobody
    assert (
        notices_for(report(finding(FindingKind.SECRET, Severity.HIGH, own_file)), None, Path("/"))
        == []
    )


def test_the_words_say_what_where_and_what_to_do_never_the_secret(own_file):
    key = fakekeys.anthropic(seed=3)
    secret = finding(FindingKind.SECRET, Severity.HIGH, own_file)
    (notice,) = notices_for(report(secret), None, Path("/"))
    assert own_file in notice.body and "rotate" in notice.body
    assert key not in notice.to_json() and key[-4:] not in notice.to_json()


def notice(n: int, user: str = USER) -> Notice:
    return Notice(f"f{n}", user, "secret", "high", f"title {n}", "body")


def test_the_outbox_tells_each_finding_once_at_the_hourly_rate(tmp_path):
    outbox = Outbox(tmp_path)
    rules = NoticeRules(max_per_hour=2)
    assert outbox.add([notice(1), notice(2), notice(3)]) == 3
    assert outbox.add([notice(1)]) == 0  # already known: never again
    due = outbox.due(USER, rules, now=1000.0)
    assert [n.finding_id for n in due] == ["f1", "f2"]
    for n in due:
        outbox.shown(n.finding_id, USER)
    assert outbox.due(USER, rules) == []  # two this hour already
    assert [n.finding_id for n in Outbox(tmp_path).due(USER, rules, now=time.time() + 7200)] == [
        "f3"
    ]
    assert outbox.due("bob", rules) == []


@pytest.mark.parametrize(
    ("start", "end", "hour", "quiet"),
    [
        ("22:00", "07:00", 23, True),
        ("22:00", "07:00", 6, True),
        ("22:00", "07:00", 12, False),
        ("12:00", "13:00", 12, True),
        ("12:00", "13:00", 13, False),
    ],
)
def test_quiet_hours_may_cross_midnight(start, end, hour, quiet):
    rules = NoticeRules(quiet_start=start, quiet_end=end)
    assert in_quiet_hours(rules, datetime(2026, 1, 1, hour, 30)) is quiet


class Recorder(Notifier):
    name = "recorder"

    def __init__(self) -> None:
        self.shown: list[Notice] = []

    def show(self, notice: Notice) -> None:
        self.shown.append(notice)


def test_the_socket_delivers_to_the_helper_and_waits_for_its_ack(tmp_path):
    server = NoticeServer(tmp_path / "notify.sock", Outbox(tmp_path))
    server.start()
    assert oct((tmp_path / "notify.sock").stat().st_mode & 0o777) in ("0o666", "0o600")
    recorder = Recorder()
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(str(tmp_path / "notify.sock"))
    reader = threading.Thread(target=serve_session, args=(conn, recorder), daemon=True)
    reader.start()
    server.submit([notice(1), notice(2, user="someone-else")], NoticeRules())
    wait_for("the notice", lambda: recorder.shown, timeout=10)
    wait_for("the ack", lambda: Outbox(tmp_path).due(USER, NoticeRules()) == [], timeout=10)
    server.submit([notice(1)], NoticeRules())  # the next scan finds it again
    server.stop()
    reader.join(timeout=5)
    assert [n.finding_id for n in recorder.shown] == ["f1"]


@pytest.mark.skipif(shutil.which("dbus-run-session") is None, reason="needs dbus-run-session")
def test_a_planted_key_is_notified_over_the_session_bus_once(make_tree, tmp_path):
    key = fakekeys.anthropic(seed=29)
    home = make_tree("home", {"src/app/.env": f"ANTHROPIC_API_KEY={key}\n", ".bashrc": "# rc\n"})
    collector = Collector(
        f"http://127.0.0.1:{free_port()}", tmp_path / "c.sqlite", tmp_path / "c.log"
    )
    collector.start()
    state = tmp_path / "agent-state"
    state.mkdir()
    sock = tmp_path / "notify.sock"
    agent = Agent(
        collector, home, state, tmp_path / "agent.out", settings={"notify_socket": str(sock)}
    )
    record = tmp_path / "notify-calls.jsonl"
    helper = subprocess.Popen(
        [
            "dbus-run-session",
            "--",
            sys.executable,
            "-m",
            "tests.agent.test_notify_bus",
            str(record),
            "--",
            sys.executable,
            "-m",
            "shadowmap.agent.cli",
            "-v",
            "agent",
            "notify-helper",
            "--socket",
            str(sock),
        ],
        stdout=(tmp_path / "helper.log").open("wb"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,  # the bus, the service and the helper go together
    )
    try:
        agent.start()
        calls = wait_for(
            "a Notify call",
            lambda: record.exists() and record.read_text(),
            log=tmp_path / "helper.log",
        )
        (call,) = [json.loads(line) for line in calls.splitlines()]
        assert call["app_name"] == "shadowmap" and "Anthropic API key" in call["summary"]
        assert str(home / "src/app/.env") in call["body"]
        assert key not in calls and key[-4:] not in calls

        (home / ".bashrc").write_text("# rc, edited\n")  # the secrets source is scanned again
        log = state / "agent.log"
        wait_for("a second scan", lambda: "scanned secrets" in log.read_text(), log=log)
        time.sleep(2)  # the notices of that scan reach the helper within milliseconds
        assert len(record.read_text().splitlines()) == 1
    finally:
        agent.stop()
        os.killpg(helper.pid, signal.SIGTERM)
        helper.wait(timeout=10)
        collector.stop()


NOBODY = 65534


def forked_as_nobody(work) -> tuple[int, int]:
    """Runs ``work(write_fd)`` in a forked child as the user nobody; (pid, read fd)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no exec (nobody cannot reach this venv), just the work
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            work(write)
        finally:
            os._exit(0)
    os.close(write)
    return pid, read


@pytest.fixture
def reachable_by_everyone():
    """Makes folders that nobody can reach (pytest's own folders are root's alone)."""
    made: list[Path] = []

    def make(mode: int) -> Path:
        made.append(Path(tempfile.mkdtemp(dir="/tmp", prefix="shadowmap-notify-")))
        made[-1].chmod(mode)
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


class PipeNotifier(Notifier):
    name = "pipe"

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def show(self, notice: Notice) -> None:
        os.write(self.fd, (notice.user + "\n").encode())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a helper as another user")
def test_another_users_helper_gets_only_that_users_notices(tmp_path, reachable_by_everyone):
    import pwd

    from shadowmap.agent.notify.helper import _trusted

    nobody = pwd.getpwuid(NOBODY).pw_name
    path = reachable_by_everyone(0o755) / "notify.sock"
    server = NoticeServer(path, Outbox(tmp_path / "state"))
    server.start()

    def helper(fd: int) -> None:
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(str(path))
        os.write(fd, b"trusted\n" if _trusted(conn) else b"untrusted\n")
        conn.settimeout(3)
        try:
            serve_session(conn, PipeNotifier(fd))
        except OSError:
            pass

    pid, read = forked_as_nobody(helper)
    lines = os.fdopen(read)
    try:
        assert lines.readline().strip() == "trusted"  # root's daemon
        server.submit([notice(1), notice(2, user=nobody)], NoticeRules())
        assert lines.readline().strip() == nobody
    finally:
        os.waitpid(pid, 0)
        server.stop()
    assert lines.read().strip() == ""  # root's notice never went to nobody


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a socket as another user")
def test_the_helper_shows_nothing_from_a_socket_another_user_made(reachable_by_everyone):
    from shadowmap.agent.notify.helper import run_helper

    path = reachable_by_everyone(0o777) / "notify.sock"
    fake = notice(1, user="root").to_json()

    def impostor(fd: int) -> None:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
        listener.listen(1)
        os.write(fd, b"ready\n")
        conn, _ = listener.accept()
        conn.sendall(('{"notice": ' + fake + "}\n").encode())
        time.sleep(1)

    pid, read = forked_as_nobody(impostor)
    assert os.fdopen(read).readline().strip() == "ready"
    recorder, stop = Recorder(), threading.Event()
    runner = threading.Thread(target=run_helper, args=(path, recorder, stop), daemon=True)
    runner.start()
    os.waitpid(pid, 0)
    stop.set()
    runner.join(timeout=5)
    assert recorder.shown == []
