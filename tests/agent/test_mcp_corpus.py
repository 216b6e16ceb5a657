"""Real MCP configs from public repositories (tests/assets/mcp), placed where clients read them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests import assets


# Where each client of the corpus reads its file, per OS layout (the clients' docs).
def _support(os_name: str, name: str) -> str:
    base = {
        "linux": ".config",
        "macos": "Library/Application Support",
        "windows": "AppData/Roaming",
    }
    return f"{base[os_name]}/{name}"


def placement(client: str, os_name: str) -> str:
    table = {
        "vscode": "src/proj/.vscode/mcp.json",
        "cursor": "src/proj/.cursor/mcp.json",
        "roo code": "src/proj/.roo/mcp.json",
        "kiro": "src/proj/.kiro/settings/mcp.json",
        "goose": "AppData/Roaming/Block/goose/config/config.yaml"
        if os_name == "windows"
        else ".config/goose/config.yaml",
        "opencode": ".config/opencode/opencode.json",
        "codex": ".codex/config.toml",
        "windsurf": ".codeium/windsurf/mcp_config.json",
        "cline": _support(os_name, "Code")
        + "/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        "unknown agent": "src/proj/.mcp.json",
        "github copilot cli": ".copilot/mcp-config.json",
        "zed": "AppData/Roaming/Zed/settings.json"
        if os_name == "windows"
        else ".config/zed/settings.json",
    }
    return next(rel for prefix, rel in table.items() if client.lower().startswith(prefix))


CASES = [(e, o) for e in assets.mcp_manifest() for o in ("linux", "macos", "windows")]


@pytest.mark.parametrize("entry, os_name", CASES, ids=[f"{e['file']}-{o}" for e, o in CASES])
def test_corpus_file_yields_its_servers(entry, os_name, make_tree, shadowmap):
    rel = placement(entry["client"], os_name)
    home = make_tree("home", {rel: assets.text(f"mcp/{entry['file']}")})
    run = shadowmap("scan", "--home", str(home), "--os", os_name, "--no-live", "--format", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["warnings"] == []
    found = {
        f["evidence"]["server"]: f["evidence"]
        for f in report["findings"]
        if f["kind"] == "mcp_server"
    }
    expected = entry["expected"].get("servers", [])
    assert sorted(found) == sorted(s["name"] for s in expected)
    for server in expected:
        got = found[server["name"]]
        assert got["transport"] == server["transport"], server["name"]
        assert got["command"] == server.get("normalized_command", server.get("command"))
        if "normalized_args" in server or "args" in server:
            assert got["args"] == server.get("normalized_args", server.get("args"))
        if "url" in server:
            assert got["url"] == server["url"]
        assert got["inline_secret"] == server["has_inline_secret"], server["name"]
        assert set(server.get("env_refs", [])) <= set(got["env_refs"]), server["name"]
        assert got["enabled"] == server.get("enabled", True)
        if server.get("secret_value"):
            assert server["secret_value"] not in run.everything
            secrets = [f for f in report["findings"] if f["kind"] == "secret"]
            assert secrets and all(f["location"]["path"].endswith(Path(rel).name) for f in secrets)


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
