"""Suite-wide fixtures: no network beyond loopback, a CLI runner, a home factory."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REAL_CONNECT = socket.socket.connect
REAL_CONNECT_EX = socket.socket.connect_ex


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay on the machine
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 / ::1 only; anything else fails loudly."""

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _loopback(address):
            raise OSError(f"test tried to reach {address!r}; only loopback is allowed")
        REAL_CONNECT(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _loopback(address):
            raise OSError(f"test tried to reach {address!r}; only loopback is allowed")
        return REAL_CONNECT_EX(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def shadowmap(state_dir: Path) -> Callable[..., Run]:
    """Runs the real CLI in a child process, its state kept in the test's folder."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
        full_env.update({"SHADOWMAP_STATE_DIR": str(state_dir), **(env or {})})
        proc = subprocess.run(
            [sys.executable, "-m", "shadowmap.agent.cli", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def make_tree(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str | bytes]], Path]]:
    """Builds a folder (a home or a system root) from {relative path: content}."""

    def build(name: str, files: dict[str, str | bytes]) -> Path:
        top = tmp_path / name
        top.mkdir(parents=True, exist_ok=True)
        for rel, content in files.items():
            path = top / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if rel.endswith("/"):
                path.mkdir(parents=True, exist_ok=True)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return top

    yield build
