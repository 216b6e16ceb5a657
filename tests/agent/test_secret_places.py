"""Where the secrets detector looks on an endpoint, and what it leaves alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import fakekeys


def notebook(cell: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": [cell]}], "nbformat": 4})


@pytest.fixture
def keys() -> dict[str, str]:
    return {name: getattr(fakekeys, name)() for name in (
        "groq", "huggingface", "anthropic_oauth", "openai_project", "xai", "tavily",
        "perplexity", "replicate", "cerebras", "linear", "notion", "langsmith",
    )}  # fmt: skip


def planted(keys: dict[str, str]) -> dict[str, str | bytes]:
    return {
        ".bash_history": f"ls\nexport GROQ_API_KEY={keys['groq']}\n",
        ".zshrc": "alias ll='ls -l'\n"
        'export OPENAI_API_KEY="$(security find-generic-password -s o -w)"\n',
        ".netrc": f"machine api.wandb.ai\n  login user\n  password {fakekeys.hex_key(40, 5)}\n",
        ".cache/huggingface/token": keys["huggingface"] + "\n",
        ".claude/.credentials.json": json.dumps(
            {"oauth": {"accessToken": keys["anthropic_oauth"]}}
        ),
        ".config/Code/User/settings.json": json.dumps({"xai.apiKey": keys["xai"]}),
        "src/app/.env.local": f"TAVILY_API_KEY={keys['tavily']}\n",
        "src/app/.env.tpl": "ANTHROPIC_API_KEY=op://Private/Anthropic/credential\n",
        "src/app/notebooks/explore.ipynb": notebook(
            f'client = Perplexity(api_key="{keys["perplexity"]}")'
        ),
        "src/app/scripts/run.py": f"TOKEN = '{keys['replicate']}'\n",
        "src/app/scripts/uses_keyring.py": "import keyring\nk = keyring.get_password('a', 'b')\n",
        "src/app/node_modules/pkg/index.js": f"const k = '{keys['cerebras']}';\n",
        "src/app/notebooks/.ipynb_checkpoints/explore-checkpoint.ipynb": notebook(keys["linear"]),
        "src/app/big.txt": "x = 1\n" * 200_000 + keys["notion"] + "\n",
        "src/app/photo.png": b"\x89PNG\x00\x00" + keys["langsmith"].encode(),
    }


def scan(shadowmap, home: Path) -> dict:
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    return json.loads(run.stdout)


def test_each_place_is_read_and_the_rest_left_alone(keys, make_tree, shadowmap):
    home = make_tree("home", planted(keys))

    report = scan(shadowmap, home)

    secrets = {
        (f["secret"]["kind"], Path(f["location"]["path"]).relative_to(home).as_posix())
        for f in report["findings"] if f["kind"] == "secret"
    }  # fmt: skip
    assert secrets == {
        ("groq-api-key", ".bash_history"),
        ("wandb-api-key", ".netrc"),
        ("huggingface-token", ".cache/huggingface/token"),
        ("anthropic-oauth-token", ".claude/.credentials.json"),
        ("xai-api-key", ".config/Code/User/settings.json"),
        ("tavily-api-key", "src/app/.env.local"),
        ("perplexity-api-key", "src/app/notebooks/explore.ipynb"),
        ("replicate-api-token", "src/app/scripts/run.py"),
    }
    raw = json.dumps(report)
    for value in keys.values():
        assert value not in raw and value[-10:] not in raw


def test_store_references_in_config_files_are_inventory(keys, make_tree, shadowmap):
    home = make_tree("home", planted(keys))

    report = scan(shadowmap, home)

    refs = {
        (f["evidence"]["store"], f["evidence"].get("name"), Path(f["location"]["path"]).name)
        for f in report["findings"] if f["kind"] == "secret_reference"
    }  # fmt: skip
    # Source code using a keyring and shell history are not inventory; rc files are.
    assert refs == {
        ("1Password", "ANTHROPIC_API_KEY", ".env.tpl"),
        ("macOS Keychain", "OPENAI_API_KEY", ".zshrc"),
    }
    for finding in report["findings"]:
        if finding["kind"] == "secret_reference":
            assert finding["severity"] == "info" and finding["aam_controls"] == ["AAM-1.2"]
            assert finding["value_hash"] is None and finding["secret"] is None
    assert "Private/Anthropic" not in json.dumps(report)


def test_an_unreadable_file_is_a_warning_not_a_crash(keys, make_tree, shadowmap):
    home = make_tree("home", {".env": f"GROQ_API_KEY={keys['groq']}\n", "src/p/a.py": "x\n"})
    locked = home / "src" / "p" / "a.py"
    locked.chmod(0)
    try:
        report = scan(shadowmap, home)
    finally:
        locked.chmod(0o644)
    assert [f["secret"]["kind"] for f in report["findings"] if f["kind"] == "secret"] == [
        "groq-api-key"
    ]
