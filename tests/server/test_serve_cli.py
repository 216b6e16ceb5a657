"""`shadowmap collector serve` as a real process: refusals, secret files, the default database."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.server.conftest import CollectorProcess

# shadowmap.agent.errors: usage and config problems exit 2, could-not-run exits 3.
EXIT_USAGE = 2
EXIT_COULD_NOT = 3
# Made up for the secret-file test; unlike conftest's, never in the environment.
FILE_ENROLL_SECRET = "Ff4-file-enrol-Xk2Qw8Lp"
FILE_ADMIN_TOKEN = "Ff4-file-admin-Vb7Rt3Mz"

RunServe = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        pytest.param({"SHADOWMAP_ENROLL_SECRET": None}, "no enrol secret", id="no-enrol-secret"),
        pytest.param({"SHADOWMAP_ADMIN_TOKEN": None}, "no admin token", id="no-admin-token"),
        pytest.param({"SHADOWMAP_ENROLL_SECRET": "changeme"}, "shorter than 16", id="short"),
        pytest.param({"SHADOWMAP_ADMIN_TOKEN": "changeme-please-now"}, "placeholder", id="sample"),
    ],
)
def test_it_refuses_to_start_without_real_secrets(
    run_serve: RunServe, tmp_path: Path, env: dict[str, str | None], says: str
) -> None:
    done = run_serve("--db", f"sqlite:///{tmp_path / 'c.sqlite'}", **env)

    assert done.returncode == EXIT_USAGE
    assert says in done.stderr
    assert "shadowmap: next:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "c.sqlite").exists()


@pytest.mark.parametrize("listen", ["localhost", "127.0.0.1:99999", "::1:8443"])
def test_a_bad_listen_value_is_a_usage_error(run_serve: RunServe, listen: str) -> None:
    done = run_serve("--listen", listen)

    assert done.returncode == EXIT_USAGE
    assert "--listen" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_database_is_a_clear_error(run_serve: RunServe) -> None:
    unreachable = "postgresql+psycopg://postgres:hunter2-pw@127.0.0.1:1/nothing"

    done = run_serve("--listen", "127.0.0.1:1", "--db", unreachable)

    assert done.returncode == EXIT_USAGE
    assert "cannot open the database" in done.stderr
    assert "hunter2-pw" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_a_clear_error(run_serve: RunServe, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run_serve("--listen", f"127.0.0.1:{port}", "--db", f"sqlite:///{tmp_path}/c.db")

    assert done.returncode == EXIT_COULD_NOT
    assert "could not listen" in done.stderr


def test_it_serves_with_secret_files_and_the_default_database(
    tmp_path: Path, start_collector: Callable[..., CollectorProcess]
) -> None:
    (tmp_path / "enroll").write_text(FILE_ENROLL_SECRET + "\n", encoding="utf-8")
    (tmp_path / "admin").write_text(FILE_ADMIN_TOKEN + "\n", encoding="utf-8")
    options = ["--enroll-secret-file", str(tmp_path / "enroll")]
    options += ["--admin-token-file", str(tmp_path / "admin"), "--state-dir", str(tmp_path / "s")]
    no_env = {"SHADOWMAP_ENROLL_SECRET": None, "SHADOWMAP_ADMIN_TOKEN": None}

    running = start_collector(*options, env=no_env)
    client = running.collector
    client.enroll_secret, client.admin_token = FILE_ENROLL_SECRET, FILE_ADMIN_TOKEN

    assert client.enroll("machine-1").status_code == 200, running.output()
    assert len(client.devices()) == 1
    assert (tmp_path / "s" / "collector.sqlite").is_file()
    assert FILE_ENROLL_SECRET not in running.output()
    assert FILE_ADMIN_TOKEN not in running.output()
