"""Fixtures for the collector tests: databases, running collectors, report factories.

Every collector is reached through real HTTP on loopback (tests/conftest.py blocks the rest);
each test gets a fresh SQLite file or a freshly created PostgreSQL database, dropped after.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text

from shadowmap.agent.models import (
    DetectorId,
    Finding,
    FindingKind,
    HostInfo,
    Location,
    OSName,
    Report,
    ScannerInfo,
    SecretEvidence,
    Severity,
    SourceId,
    finding_id,
)

# Made for these tests only: long enough and no placeholder, so the collector accepts them.
ENROLL_SECRET = "t3st-enrol-9fK2vLm7pQxW"
ADMIN_TOKEN = "t3st-admin-Hh4s8ZrY1uNc"
# The PostgreSQL server that CI starts (trust auth); each test makes its own database on it.
POSTGRES_ADMIN_URL = os.environ.get(
    "SHADOWMAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES_ENV = "SHADOWMAP_REQUIRE_POSTGRES"
# How long a collector may take to answer /healthz after it is started.
STARTUP_TIMEOUT_S = 30.0
COLLECTOR_TABLES = ("devices", "reports", "findings", "org_identity")


# -- ports --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- databases ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'collector.sqlite'}"


def _postgres_or_skip() -> Any:
    engine = create_engine(
        POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # psycopg missing, server down, auth refused: all mean "no PG"
        engine.dispose()
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {type(exc).__name__}"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{reason} (and {REQUIRE_POSTGRES_ENV}=1 requires it)")
        pytest.skip(f"{reason}; set {REQUIRE_POSTGRES_ENV}=1 to make this a failure")
    return engine


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A freshly created database on the PostgreSQL server, dropped after the test."""
    engine = _postgres_or_skip()
    name = f"shadowmap_test_{uuid.uuid4().hex[:16]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def table_rows() -> Callable[[str], dict[str, list[tuple[Any, ...]]]]:
    """Every row of the collector's tables, to show that a refused request changed nothing."""

    def read(url: str) -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return {
                    table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}"))))
                    for table in COLLECTOR_TABLES
                }
        finally:
            engine.dispose()

    return read


# -- a collector, over HTTP --------------------------------------------------------------


@dataclass
class Collector:
    """A running collector and the requests tests make of it."""

    base_url: str
    verify: bool | str = True
    http: requests.Session = field(default_factory=requests.Session)
    enroll_secret: str = ENROLL_SECRET
    admin_token: str = ADMIN_TOKEN

    def url(self, path: str) -> str:
        return self.base_url + path

    def enroll(self, machine_id: str = "machine-1", **fields: Any) -> requests.Response:
        body = {
            "enroll_secret": self.enroll_secret,
            "machine_id": machine_id,
            "hostname": "laptop-1",
            "os": "linux",
            "os_user": "alice",
            "email": "alice@example.com",
            "agent_version": "0.1.0",
            **fields,
        }
        return self.http.post(self.url("/api/v1/enroll"), json=body, timeout=10, verify=self.verify)

    def enroll_ok(self, machine_id: str = "machine-1", **fields: Any) -> dict[str, str]:
        response = self.enroll(machine_id, **fields)
        assert response.status_code == 200, response.text
        enrolled: dict[str, str] = response.json()
        return enrolled

    def post_report(self, token: str, body: Report | bytes | str) -> requests.Response:
        data = body.model_dump_json() if isinstance(body, Report) else body
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return self.http.post(
            self.url("/api/v1/reports"), data=data, headers=headers, timeout=30, verify=self.verify
        )

    def admin_get(self, path: str, token: str | None = "", **params: str) -> Any:
        """GET with the admin token, another token (``token="..."``), or none (``None``)."""
        token = self.admin_token if token == "" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get(
            self.url(path), headers=headers, params=params, timeout=10, verify=self.verify
        )

    def findings(self, **params: str) -> list[dict[str, Any]]:
        response = self.admin_get("/api/v1/findings", **params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def devices(self) -> list[dict[str, Any]]:
        response = self.admin_get("/api/v1/devices")
        assert response.status_code == 200, response.text
        devices: list[dict[str, Any]] = response.json()
        return devices


def wait_healthy(
    collector: Collector, alive: Callable[[], bool], describe: Callable[[], str]
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not alive():
            pytest.fail(f"the collector stopped while starting:\n{describe()}")
        try:
            response = requests.get(collector.url("/healthz"), timeout=1, verify=collector.verify)
            if response.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"the collector did not answer /healthz in {STARTUP_TIMEOUT_S} s:\n{describe()}")


@pytest.fixture
def serve_app() -> Iterator[Callable[..., Collector]]:
    """Factory: create_app on a database, served by uvicorn in a thread on a free port.

    ``prepare`` may add to the app first (a route that fails, say); other keywords are
    Settings fields (``oidc=...``)."""
    from shadowmap.server.app import create_app
    from shadowmap.server.settings import Settings

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(
        url: str, prepare: Callable[[FastAPI], None] | None = None, **fields: Any
    ) -> Collector:
        port = free_port()
        app = create_app(Settings(url, ENROLL_SECRET, ADMIN_TOKEN, port=port, **fields))
        if prepare is not None:
            prepare(app)
        config = uvicorn.Config(app, port=port, log_config=None)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        collector = Collector(f"http://127.0.0.1:{port}")
        wait_healthy(collector, thread.is_alive, lambda: "see the captured log")
        return collector

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def collector(db_url: str, serve_app: Callable[..., Collector]) -> Collector:
    return serve_app(db_url)


@pytest.fixture
def sqlite_collector(sqlite_url: str, serve_app: Callable[..., Collector]) -> Collector:
    return serve_app(sqlite_url)


# -- a collector as a real process --------------------------------------------------------


@dataclass
class CollectorProcess:
    collector: Collector
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def collector_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The environment for `shadowmap collector serve`: the test secrets unless overridden."""
    env = {**os.environ, "SHADOWMAP_STATE_DIR": str(tmp_path / "state")}
    env["SHADOWMAP_ENROLL_SECRET"] = ENROLL_SECRET
    env["SHADOWMAP_ADMIN_TOKEN"] = ADMIN_TOKEN
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def serve_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "shadowmap.agent.cli", "collector", "serve", *options]


@pytest.fixture
def run_serve(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Factory: run `collector serve` to its end (for the refusals); env values override."""

    def run(*options: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            serve_command(*options),
            env=collector_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[Callable[..., CollectorProcess]]:
    """Factory: `shadowmap collector serve` as a process on a free port, stopped afterwards."""
    started: list[CollectorProcess] = []

    def start(
        *options: str,
        scheme: str = "http",
        verify: bool | str = True,
        env: dict[str, str | None] | None = None,
    ) -> CollectorProcess:
        port = free_port()
        log = tmp_path / f"collector-{port}.log"
        command = serve_command("--listen", f"127.0.0.1:{port}", *options)
        environ = collector_env(tmp_path, **(env or {}))
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=environ, stdout=sink, stderr=subprocess.STDOUT)
        running = CollectorProcess(Collector(f"{scheme}://127.0.0.1:{port}", verify), process, log)
        started.append(running)
        wait_healthy(running.collector, lambda: process.poll() is None, running.output)
        return running

    yield start
    for running in started:
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(timeout=10)


# -- reports ------------------------------------------------------------------------------


def _finding(
    name: str,
    *,
    source: SourceId = SourceId.MCP,
    user: str | None = "alice",
    title: str | None = None,
    severity: Severity = Severity.MEDIUM,
) -> Finding:
    return Finding(
        id=finding_id(DetectorId.MCP, FindingKind.MCP_SERVER, name),
        detector=DetectorId.MCP,
        kind=FindingKind.MCP_SERVER,
        source=source,
        title=title or f"MCP server {name}",
        severity=severity,
        vendor="Anthropic",
        user=user,
        location=Location(path="/home/alice/.cursor/mcp.json", pointer=f"/mcpServers/{name}"),
        aam_controls=["AAM-1.1"],
        evidence={"command": "npx"},
        definition_hash="d" * 64,
    )


def _secret_finding(name: str, *, user: str | None = "alice") -> Finding:
    return Finding(
        id=finding_id(DetectorId.SECRETS, FindingKind.SECRET, name),
        detector=DetectorId.SECRETS,
        kind=FindingKind.SECRET,
        source=SourceId.SECRETS,
        title=f"OpenAI key in {name}",
        severity=Severity.HIGH,
        vendor="OpenAI",
        user=user,
        location=Location(path=f"/home/alice/{name}", line=3),
        aam_controls=["AAM-3.3"],
        secret=SecretEvidence(kind="openai_project_key", preview="sk-proj-…Zx9Q", length=164),
        value_hash="a" * 64,
    )


def _report(
    machine_id: str,
    findings: list[Finding],
    *,
    sources: tuple[SourceId, ...] = (SourceId.MCP, SourceId.SECRETS),
    users: tuple[str, ...] = ("alice",),
    hostname: str = "laptop-1",
    report_id: str | None = None,
) -> Report:
    return Report(
        report_id=report_id or uuid.uuid4().hex,
        created_at="2024-06-01T12:00:00Z",
        scanner=ScannerInfo(version="0.1.0", signatures_version="2024.06.01"),
        host=HostInfo(machine_id=machine_id, hostname=hostname, os=OSName.LINUX),
        users=list(users),
        sources=list(sources),
        fingerprint_scope="org:test",
        findings=findings,
    )


@pytest.fixture
def make_finding() -> Callable[..., Finding]:
    return _finding


@pytest.fixture
def make_secret_finding() -> Callable[..., Finding]:
    return _secret_finding


@pytest.fixture
def make_report() -> Callable[..., Report]:
    return _report
