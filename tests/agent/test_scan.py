"""`shadowmap scan` end to end: a planted home per OS layout, through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests import fakekeys

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report-schema.json").read_text())

APP_SUPPORT = {"linux": ".config", "macos": "Library/Application Support"}


def planted_home(os_name: str, keys: dict[str, str]) -> dict[str, str | bytes]:
    support = APP_SUPPORT[os_name]
    mcp = lambda servers: json.dumps({"mcpServers": servers}, indent=2)  # noqa: E731
    return {
        f"{support}/Claude/claude_desktop_config.json": mcp(
            {
                "filesystem": {
                    "command": "npx",
                    "args": ["-y", "@modelcontextprotocol/server-filesystem", "/"],
                }
            }
        ),
        ".cursor/mcp.json": mcp(
            {
                "github": {
                    "command": "docker",
                    "args": ["run", "-i", "ghcr.io/github/github-mcp-server"],
                    "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": keys["github"]},
                }
            }
        ),
        f"{support}/Code/User/mcp.json": "// user servers\n"
        + json.dumps(
            {"servers": {"context7": {"type": "http", "url": "https://mcp.context7.com/mcp"}}}
        ),
        ".codeium/windsurf/mcp_config.json": mcp(
            {"my.dotted server": {"serverUrl": "http://10.1.2.3/sse"}}
        ),
        ".claude.json": json.dumps(
            {
                "mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}},
                "projects": {
                    "/work/app": {"mcpServers": {"postgres": {"command": "uvx postgres-mcp"}}}
                },
            }
        ),
        "src/app/.mcp.json": mcp(
            {
                "linear": {
                    "command": "npx",
                    "args": ["-y", "mcp-remote", "https://mcp.linear.app/sse"],
                }
            }
        ),
        "src/app/.env": f"ANTHROPIC_API_KEY={keys['anthropic']}\nDEBUG=1\n",
        ".bashrc": f"alias ll='ls -l'\nexport OPENAI_API_KEY=\"{keys['openai']}\"\n",
        ".codex/config.toml": "model = 'o4'\n",
    }


def planted_root(os_name: str) -> dict[str, str | bytes]:
    if os_name == "macos":
        return {
            "Applications/Claude.app/Contents/Info.plist": "<plist/>",
            "Applications/Cursor.app/": "",
        }
    return {"usr/local/bin/ollama": "#!/bin/sh\n", "opt/Cursor/cursor": "bin"}


@pytest.fixture
def keys() -> dict[str, str]:
    return {
        "github": fakekeys.github_classic(),
        "anthropic": fakekeys.anthropic(),
        "openai": fakekeys.openai_project(),
    }


def by_kind(report: dict, kind: str) -> list[dict]:
    return [f for f in report["findings"] if f["kind"] == kind]


@pytest.mark.parametrize("os_name", ["linux", "macos"])
def test_scan_finds_everything_planted(os_name, keys, make_tree, shadowmap, tmp_path):
    home = make_tree("home", planted_home(os_name, keys))
    root = make_tree("root", planted_root(os_name))
    out_file = tmp_path / "report.json"

    run = shadowmap(
        "scan",
        "--home",
        str(home),
        "--root",
        str(root),
        "--os",
        os_name,
        "--no-live",
        "--format",
        "json",
        "--output",
        str(out_file),
    )

    assert run.code == 0, run.stderr
    report = json.loads(out_file.read_text())
    jsonschema.validate(report, SCHEMA)
    servers = {
        (f["evidence"]["client"], f["evidence"]["server"]) for f in by_kind(report, "mcp_server")
    }
    assert servers == {
        ("claude-desktop", "filesystem"),
        ("cursor", "github"),
        ("vscode", "context7"),
        ("windsurf", "my.dotted server"),
        ("claude-code", "sentry"),
        ("claude-code", "postgres"),
        ("claude-code", "linear"),
    }
    apps = {f["evidence"]["app"] for f in by_kind(report, "app") + by_kind(report, "cli_agent")}
    assert {"claude-desktop", "cursor", "codex-cli"} <= apps
    assert ("ollama" in apps) == (os_name == "linux")
    secrets = {
        (f["secret"]["kind"], Path(f["location"]["path"]).name) for f in by_kind(report, "secret")
    }
    assert secrets == {
        ("github-token", "mcp.json"),
        ("anthropic-api-key", ".env"),
        ("openai-project-key", ".bashrc"),
    }
    owner = report["users"][0]
    assert owner and all(f["user"] == owner for f in report["findings"])
    assert report["sources"] == [
        "apps", "browser_session", "extensions", "mcp", "model_files", "secrets"
    ]
    for value in keys.values():
        assert value not in out_file.read_text() and value not in run.everything


def test_finding_details_for_one_server(keys, make_tree, shadowmap):
    home = make_tree("home", planted_home("linux", keys))
    report = json.loads(
        shadowmap("scan", "--home", str(home), "--no-live", "--format", "json").stdout
    )
    github = next(f for f in by_kind(report, "mcp_server") if f["evidence"]["server"] == "github")
    assert github["evidence"]["transport"] == "stdio"
    assert github["evidence"]["command"] == "docker"
    assert github["evidence"]["env"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert github["evidence"]["inline_secret"] is True
    assert github["severity"] == "high"
    assert github["location"]["pointer"] == "/mcpServers/github"
    windsurf = next(
        f for f in by_kind(report, "mcp_server") if f["evidence"]["client"] == "windsurf"
    )
    assert windsurf["evidence"]["transport"] == "sse" and windsurf["severity"] == "medium"
    postgres = next(
        f for f in by_kind(report, "mcp_server") if f["evidence"]["server"] == "postgres"
    )
    assert postgres["evidence"]["command"] == "uvx" and postgres["evidence"]["args"] == [
        "postgres-mcp"
    ]
    secret = next(
        f for f in by_kind(report, "secret") if f["secret"]["kind"] == "openai-project-key"
    )
    assert secret["secret"]["preview"] == "sk-proj-…" + keys["openai"][-4:]
    assert secret["secret"]["length"] == len(keys["openai"])
    assert secret["value_hash"].startswith("hmac-sha256:")
    assert secret["location"]["line"] == 2


def test_ids_are_stable_and_hashes_keyed(keys, make_tree, shadowmap):
    home = make_tree("home", planted_home("linux", keys))
    args = ("scan", "--home", str(home), "--no-live", "--format", "json")
    first = json.loads(shadowmap(*args).stdout)
    (home / ".bashrc").write_text("\n\n# moved down\n" + (home / ".bashrc").read_text())
    second = json.loads(shadowmap(*args).stdout)
    assert {f["id"] for f in first["findings"]} == {f["id"] for f in second["findings"]}
    other_key = json.loads(shadowmap(*args, env={"SHADOWMAP_FINGERPRINT_KEY": "k" * 32}).stdout)
    hashes = lambda r: {f["value_hash"] for f in by_kind(r, "secret")}  # noqa: E731
    assert hashes(first) == hashes(second)
    assert hashes(first).isdisjoint(hashes(other_key))
    assert other_key["fingerprint_scope"] == "env"


def test_text_output_is_a_table_with_a_summary(keys, make_tree, shadowmap):
    home = make_tree("home", planted_home("linux", keys))
    run = shadowmap("scan", "--home", str(home), "--no-live")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["SEVERITY", "KIND", "WHAT", "WHERE"]
    assert "MCP server github in Cursor (user)" in run.stdout
    assert lines[-1].startswith("13 findings (") or "findings (" in lines[-1]
    for value in keys.values():
        assert value not in run.everything


def test_malformed_configs_are_warnings_and_the_scan_goes_on(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            ".cursor/mcp.json": '{"mcpServers": {"broken": ',
            ".config/Claude/claude_desktop_config.json": b"\x00\x01\x02binary\xff",
            ".codeium/windsurf/mcp_config.json": json.dumps(
                {"mcpServers": {"fine": {"command": "npx"}, "wrong": "just a string", "num": 3}}
            ),
            ".config/Code/User/mcp.json": "// nothing here yet\n",
            ".claude.json": json.dumps({"mcpServers": ["not", "a", "map"]}),
        },
    )
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    warned = {Path(w["path"]).name: w["message"] for w in report["warnings"]}
    assert "malformed" in warned["mcp.json"]
    assert "binary" in warned["claude_desktop_config.json"]
    assert "not an object" in warned["mcp_config.json"]
    names = [f["evidence"]["server"] for f in by_kind(report, "mcp_server")]
    assert names == ["fine"]


def test_fail_on_severity(keys, make_tree, shadowmap):
    home = make_tree("home", {".zshrc": f"export HF_TOKEN={fakekeys.huggingface()}\n"})
    assert shadowmap("scan", "--home", str(home), "--no-live", "--fail-on", "high").code == 1
    assert shadowmap("scan", "--home", str(home), "--no-live", "--fail-on", "critical").code == 0
    assert shadowmap("scan", "--home", str(home), "--no-live").code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["scan", "--os", "plan9"], "invalid choice"),
        (["scan", "--home", "/no/such/folder"], "is not a folder"),
        (["scan", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, message, shadowmap):
    run = shadowmap(*args)
    assert run.code == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert "shadowmap: next:" in run.stderr


def test_running_app_is_found_and_scanner_is_not(tmp_path, make_tree, shadowmap):
    fake_ollama = tmp_path / "bin" / "ollama"
    fake_ollama.parent.mkdir()
    shutil.copy("/bin/sleep", fake_ollama)
    fake_ollama.chmod(fake_ollama.stat().st_mode | stat.S_IXUSR)
    child = subprocess.Popen([str(fake_ollama), "30"])
    try:
        time.sleep(0.2)
        home = make_tree("home", {})
        run = shadowmap(
            "scan", "--home", str(home), "--root", str(make_tree("root", {})), "--format", "json"
        )
    finally:
        child.kill()
        child.wait()
    report = json.loads(run.stdout)
    assert "processes" in report["sources"]
    running = [
        f for f in report["findings"]
        if f["source"] == "processes" and f["kind"] in ("app", "cli_agent")
    ]
    ollama = [f for f in running if f["evidence"]["app"] == "ollama"]
    assert len(ollama) == 1 and str(fake_ollama) in ollama[0]["evidence"]["executables"]
    assert all(sys.executable not in f["evidence"]["executables"] for f in running)


def test_report_schema_file_is_generated_from_the_models():
    from shadowmap.agent.models import report_json_schema

    assert SCHEMA == report_json_schema(), "run: shadowmap schema > docs/report-schema.json"


def test_scan_of_this_machine_runs(shadowmap):
    run = shadowmap("scan")
    assert run.code == 0, run.stderr
    assert "findings (" in run.stdout.splitlines()[-1]
    assert os.uname().nodename in run.stdout.splitlines()[-1]
