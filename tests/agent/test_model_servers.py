"""Local model servers as real processes on loopback, and model caches on disk."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).with_name("fake_model_server.py")


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(host: str, port: int, mode: str, name: str = "python3") -> subprocess.Popen:
        if not port_free(host, port):
            pytest.skip(f"port {port} is taken on this machine")
        exe = tmp_path / name
        if not exe.exists():
            shutil.copy(sys.executable, exe)
        proc = subprocess.Popen(
            [str(exe), str(FAKE), host, str(port), mode], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def live_scan(shadowmap, make_tree) -> list[dict]:
    run = shadowmap(
        "scan",
        "--home",
        str(make_tree("home", {})),
        "--root",
        str(make_tree("root", {})),
        "--format",
        "json",
    )
    assert run.code == 0, run.stderr
    return [f for f in json.loads(run.stdout)["findings"] if f["kind"] == "model_server"]


def test_a_server_that_answers_like_ollama_is_found(serve, shadowmap, make_tree):
    serve("127.0.0.1", 11434, "ollama")
    found = live_scan(shadowmap, make_tree)
    assert [(f["evidence"]["server"], f["evidence"]["port"]) for f in found] == [("ollama", 11434)]
    assert found[0]["evidence"]["beyond_loopback"] is False and found[0]["severity"] == "low"
    assert found[0]["evidence"]["models"] == 1 and found[0]["vendor"] == "ollama"


def test_a_server_on_that_port_that_does_not_answer_like_it_is_not(serve, shadowmap, make_tree):
    serve("127.0.0.1", 11434, "other")
    assert live_scan(shadowmap, make_tree) == []


def test_a_server_known_by_its_process_name_on_any_port(serve, shadowmap, make_tree):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve("127.0.0.1", port, "openai", name="llama-server")
    found = live_scan(shadowmap, make_tree)
    assert [(f["evidence"]["server"], f["evidence"]["port"]) for f in found] == [
        ("llama-cpp", port)
    ]


def test_a_server_bound_beyond_loopback_is_flagged(serve, shadowmap, make_tree):
    serve("0.0.0.0", 1234, "openai")
    found = live_scan(shadowmap, make_tree)
    assert [f["evidence"]["server"] for f in found] == ["lm-studio"]
    assert found[0]["evidence"]["beyond_loopback"] is True and found[0]["severity"] == "high"
    assert "beyond loopback" in found[0]["title"]


def test_no_live_skips_model_servers(serve, shadowmap, make_tree):
    serve("127.0.0.1", 11434, "ollama")
    run = shadowmap("scan", "--home", str(make_tree("home", {})), "--no-live", "--format", "json")
    report = json.loads(run.stdout)
    assert "model_servers" not in report["sources"]
    assert not [f for f in report["findings"] if f["kind"] == "model_server"]


def test_model_caches_are_counted_and_sized(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            ".ollama/models/manifests/registry.ollama.ai/library/llama3.2/3b": "{}",
            ".ollama/models/manifests/registry.ollama.ai/library/qwen2.5/7b": "{}",
            ".ollama/models/blobs/sha256-aa": "x" * 1000,
            ".cache/huggingface/hub/models--meta-llama--Llama-3.2-1B/blobs/ab": "y" * 500,
            ".cache/huggingface/hub/datasets--squad/blobs/cd": "z",
            ".lmstudio/models/lmstudio-community/gemma/gemma-3-4b-Q4_K_M.gguf": "w" * 200,
            ".lmstudio/models/README.txt": "not a model",
        },
    )
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    caches = {
        f["evidence"]["cache"]: f["evidence"]
        for f in json.loads(run.stdout)["findings"]
        if f["kind"] == "model_files"
    }
    assert caches["ollama"]["models"] == 2 and caches["ollama"]["bytes"] == 1004
    assert caches["ollama"]["names"] == ["llama3.2:3b", "qwen2.5:7b"]
    assert caches["huggingface"]["names"] == ["meta-llama/Llama-3.2-1B"]
    assert caches["lm-studio"]["names"] == ["lmstudio-community/gemma/gemma-3-4b-Q4_K_M.gguf"]
