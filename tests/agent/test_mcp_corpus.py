"""Real MCP configs from public repositories (tests/assets/mcp), placed where clients read them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests import assets

# Where each client of the corpus reads a project-level file (the clients' docs).
PLACEMENT = {
    "vscode": "src/proj/.vscode/mcp.json",
    "cursor": "src/proj/.cursor/mcp.json",
    "windsurf": ".codeium/windsurf/mcp_config.json",
    "unknown agent": "src/proj/.mcp.json",
}


def _placement(client: str) -> str | None:
    return next(
        (rel for prefix, rel in PLACEMENT.items() if client.lower().startswith(prefix)), None
    )


SUPPORTED = [e for e in assets.mcp_manifest() if _placement(e["client"])]


@pytest.mark.parametrize("entry", SUPPORTED, ids=[e["file"] for e in SUPPORTED])
def test_corpus_file_yields_its_servers(entry, make_tree, shadowmap):
    rel = _placement(entry["client"])
    home = make_tree("home", {rel: assets.text(f"mcp/{entry['file']}")})
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    assert run.code == 0, run.stderr
    found = {
        f["evidence"]["server"]: f["evidence"]
        for f in json.loads(run.stdout)["findings"]
        if f["kind"] == "mcp_server"
    }
    expected = entry["expected"]["servers"]
    assert sorted(found) == sorted(s["name"] for s in expected)
    for server in expected:
        got = found[server["name"]]
        assert got["transport"] == server["transport"], server["name"]
        if "command" in server:
            assert got["command"] == server.get("normalized_command", server["command"])
        assert got["inline_secret"] == server["has_inline_secret"], server["name"]
        assert set(server.get("env_refs", [])) <= set(got["env_refs"]), server["name"]
        if server.get("secret_value"):
            assert server["secret_value"] not in run.everything


ALL_FILES = [e["file"] for e in assets.mcp_manifest()]


@pytest.mark.parametrize("name", ALL_FILES)
def test_no_corpus_file_or_broken_copy_crashes_the_scan(name, make_tree, shadowmap):
    text = assets.text(f"mcp/{name}")
    rng = random.Random(name)
    variants = {
        "whole": text,
        "truncated": text[: rng.randrange(1, max(2, len(text)))],
        "garbled": "".join(c if rng.random() > 0.05 else rng.choice('{}[]",:\x00') for c in text),
    }
    files = {}
    for label, body in variants.items():
        files[f"src/{label}/.cursor/mcp.json"] = body
        files[f"src/{label}/.vscode/mcp.json"] = body
    files[".codex/config.toml"] = text
    home = make_tree("home", files)
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    assert run.code == 0 and "Traceback" not in run.stderr, run.stderr
    report = json.loads(run.stdout)
    for warning in report["warnings"]:
        assert warning["path"] and Path(warning["path"]).name in {"mcp.json", "config.toml"}
