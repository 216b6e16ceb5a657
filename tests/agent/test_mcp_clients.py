"""One file per MCP client, shaped like that client's real one, where that client reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import fakekeys

STDIO = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}


def mcp_servers(name: str = "gh", entry: dict | None = None) -> str:
    return json.dumps({"mcpServers": {name: entry or STDIO}})


# (client id, OS, path under the home or "/"-prefixed under the root, content, scope)
CLIENT_FILES = [
    ("claude-desktop", "linux", ".config/Claude/claude_desktop_config.json", mcp_servers(), "user"),
    (
        "claude-desktop",
        "macos",
        "Library/Application Support/Claude/claude_desktop_config.json",
        mcp_servers(),
        "user",
    ),
    (
        "claude-desktop",
        "windows",
        "AppData/Roaming/Claude/claude_desktop_config.json",
        mcp_servers(),
        "user",
    ),
    ("claude-code", "linux", ".claude.json", mcp_servers(), "user"),
    (
        "claude-code",
        "linux",
        ".claude/plugins/cache/acme/tools/.mcp.json",
        json.dumps({"gh": STDIO}),
        "user",
    ),
    ("claude-code", "linux", "/etc/claude-code/managed-mcp.json", mcp_servers(), "managed"),
    (
        "claude-code",
        "macos",
        "/Library/Application Support/ClaudeCode/managed-mcp.json",
        mcp_servers(),
        "managed",
    ),
    (
        "claude-code",
        "windows",
        "/Program Files/ClaudeCode/managed-mcp.json",
        mcp_servers(),
        "managed",
    ),
    ("claude-code", "linux", "code/app/.mcp.json", mcp_servers(), "project"),
    (
        "vscode",
        "linux",
        ".config/Code/User/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    (
        "vscode",
        "macos",
        "Library/Application Support/Code - Insiders/User/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    (
        "vscode",
        "linux",
        ".config/VSCodium/User/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    (
        "vscode",
        "linux",
        ".config/Code/User/profiles/5d1f/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    (
        "vscode",
        "linux",
        ".vscode-server/data/User/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    (
        "vscode",
        "windows",
        "AppData/Roaming/Code/User/settings.json",
        '{"editor.tabSize": 2, // tabs\n "mcp": {"servers": {"gh": ' + json.dumps(STDIO) + "}},}",
        "user",
    ),
    (
        "vscode",
        "linux",
        "code/app/.vscode/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "project",
    ),
    (
        "vscode",
        "linux",
        "code/app/app.code-workspace",
        json.dumps({"folders": [{"path": "."}], "settings": {"mcp": {"servers": {"gh": STDIO}}}}),
        "project",
    ),
    (
        "vscode",
        "linux",
        "code/app/.devcontainer/devcontainer.json",
        json.dumps(
            {
                "image": "python:3.12",
                "customizations": {"vscode": {"mcp": {"servers": {"gh": STDIO}}}},
            }
        ),
        "project",
    ),
    ("cursor", "linux", ".cursor/mcp.json", mcp_servers(), "user"),
    ("cursor", "linux", "code/app/.cursor/mcp.json", mcp_servers(), "project"),
    ("windsurf", "macos", ".codeium/windsurf/mcp_config.json", mcp_servers(), "user"),
    ("kiro", "linux", ".kiro/settings/mcp.json", mcp_servers(), "user"),
    ("kiro", "linux", "code/app/.kiro/settings/mcp.json", mcp_servers(), "project"),
    ("antigravity", "linux", ".gemini/antigravity/mcp_config.json", mcp_servers(), "user"),
    (
        "cline",
        "linux",
        ".config/Cursor/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        mcp_servers("gh", {**STDIO, "disabled": False, "autoApprove": []}),
        "user",
    ),
    ("cline", "linux", ".cline/data/settings/cline_mcp_settings.json", mcp_servers(), "user"),
    (
        "roo-code",
        "windows",
        "AppData/Roaming/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
        mcp_servers(),
        "user",
    ),
    ("roo-code", "linux", "code/app/.roo/mcp.json", mcp_servers(), "project"),
    (
        "continue",
        "linux",
        ".continue/config.yaml",
        "name: Local\nversion: 0.0.1\nmcpServers:\n  - name: gh\n    command: npx\n"
        "    args: [-y, '@modelcontextprotocol/server-github']\n",
        "user",
    ),
    (
        "continue",
        "linux",
        ".continue/config.json",
        json.dumps(
            {
                "experimental": {
                    "modelContextProtocolServers": [
                        {"transport": {"type": "stdio", "command": "npx", "args": ["-y", "x"]}}
                    ]
                }
            }
        ),
        "user",
    ),
    (
        "continue",
        "linux",
        "code/app/.continue/mcpServers/gh.yaml",
        "name: GitHub\nversion: 0.0.1\nschema: v1\nmcpServers:\n  - name: gh\n    command: npx\n",
        "project",
    ),
    (
        "zed",
        "linux",
        ".config/zed/settings.json",
        '// Zed\n{"context_servers": {"gh": '
        '{"source": "custom", "command": "npx", "args": ["-y"]}}}',
        "user",
    ),
    (
        "zed",
        "macos",
        "code/app/.zed/settings.json",
        json.dumps({"context_servers": {"gh": {"command": {"path": "npx", "args": ["-y"]}}}}),
        "project",
    ),
    ("gemini-cli", "linux", ".gemini/settings.json", mcp_servers(), "user"),
    (
        "gemini-cli",
        "linux",
        ".gemini/extensions/gh/gemini-extension.json",
        json.dumps(
            {
                "name": "gh",
                "version": "1.0.0",
                "mcpServers": {"gh": {"httpUrl": "https://api.githubcopilot.com/mcp/"}},
            }
        ),
        "user",
    ),
    ("gemini-cli", "linux", "/etc/gemini-cli/settings.json", mcp_servers(), "managed"),
    ("gemini-cli", "linux", "code/app/.gemini/settings.json", mcp_servers(), "project"),
    ("qwen-code", "linux", ".qwen/settings.json", mcp_servers(), "user"),
    (
        "codex",
        "linux",
        ".codex/config.toml",
        '[mcp_servers.gh]\ncommand = "npx"\nargs = ["-y", "@modelcontextprotocol/server-github"]\n',
        "user",
    ),
    (
        "codex",
        "linux",
        ".codex/config.toml",
        '[profiles.work.mcp_servers.gh]\nurl = "https://api.githubcopilot.com/mcp/"\n'
        'bearer_token_env_var = "GITHUB_PAT"\n',
        "user",
    ),
    ("codex", "linux", "/etc/codex/config.toml", '[mcp_servers.gh]\ncommand = "npx"\n', "managed"),
    (
        "codex",
        "windows",
        "/ProgramData/OpenAI/Codex/config.toml",
        '[mcp_servers.gh]\ncommand = "npx"\n',
        "managed",
    ),
    (
        "codex",
        "linux",
        "code/app/.codex/config.toml",
        '[mcp_servers.gh]\ncommand = "npx"\n',
        "project",
    ),
    (
        "opencode",
        "linux",
        ".config/opencode/opencode.json",
        json.dumps(
            {"mcp": {"gh": {"type": "local", "command": ["npx", "-y", "x"], "enabled": True}}}
        ),
        "user",
    ),
    (
        "opencode",
        "linux",
        "code/app/opencode.jsonc",
        '{\n  // project\n  "mcp": {"gh": {"type": "remote", "url": "https://api.githubcopilot.com/mcp/"}}\n}',
        "project",
    ),
    (
        "goose",
        "linux",
        ".config/goose/config.yaml",
        "extensions:\n  gh:\n    cmd: npx\n    args: [-y, x]\n    envs: {}\n    type: stdio\n"
        "  developer:\n    type: builtin\n",
        "user",
    ),
    (
        "goose",
        "windows",
        "AppData/Roaming/Block/goose/config/config.yaml",
        "extensions:\n  gh:\n    cmd: npx\n    type: stdio\n",
        "user",
    ),
    ("lm-studio", "linux", ".lmstudio/mcp.json", mcp_servers(), "user"),
    ("amazon-q", "linux", ".aws/amazonq/mcp.json", mcp_servers(), "user"),
    (
        "amazon-q",
        "linux",
        ".aws/amazonq/agents/default.json",
        json.dumps({"name": "default", "mcpServers": {"gh": STDIO}}),
        "user",
    ),
    ("amazon-q", "linux", "code/app/.amazonq/mcp.json", mcp_servers(), "project"),
    (
        "copilot-cli",
        "linux",
        ".copilot/mcp-config.json",
        mcp_servers("gh", {"type": "local", "command": "npx", "args": ["-y", "x"], "tools": ["*"]}),
        "user",
    ),
    (
        "copilot-jetbrains",
        "linux",
        ".config/github-copilot/intellij/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "user",
    ),
    ("junie", "linux", ".junie/mcp/mcp.json", mcp_servers(), "user"),
    ("junie", "linux", "code/app/.junie/mcp/mcp.json", mcp_servers(), "project"),
    ("visual-studio", "windows", ".mcp.json", json.dumps({"servers": {"gh": STDIO}}), "user"),
    (
        "visual-studio",
        "windows",
        "code/app/.vs/mcp.json",
        json.dumps({"servers": {"gh": STDIO}}),
        "project",
    ),
    (
        "amp",
        "linux",
        ".config/amp/settings.json",
        json.dumps({"amp.mcpServers": {"gh": STDIO}}),
        "user",
    ),
]


def scan(shadowmap, home: Path, root: Path, os_name: str) -> dict:
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
    )
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


def servers(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["kind"] == "mcp_server"]


@pytest.mark.parametrize(
    "client, os_name, rel, content, scope",
    CLIENT_FILES,
    ids=[f"{c}-{o}-{Path(r).name}" for c, o, r, _, _ in CLIENT_FILES],
)
def test_each_client_file_is_found(client, os_name, rel, content, scope, make_tree, shadowmap):
    on_root = rel.startswith("/")
    home = make_tree("home", {} if on_root else {rel: content})
    root = make_tree("root", {rel.lstrip("/"): content} if on_root else {})
    report = scan(shadowmap, home, root, os_name)
    found = [(f["evidence"]["client"], f["evidence"]["scope"]) for f in servers(report)]
    assert (client, scope) in found, report["warnings"]
    assert all(f["evidence"]["server"] in ("gh", "#0") for f in servers(report))
    assert report["warnings"] == []


def test_every_client_in_the_signatures_has_a_row():
    from shadowmap.signatures import builtin_pack

    assert {c.id for c in builtin_pack().mcp_clients} == {row[0] for row in CLIENT_FILES}


def test_projects_the_clients_list_are_scanned(make_tree, shadowmap, tmp_path):
    """Projects outside the walked depth, known only from the clients' own project lists."""
    deep = "w/a/b/c/d/e/f"
    home = make_tree(
        "home",
        {
            f"{deep}/one/.mcp.json": mcp_servers("one"),
            f"{deep}/two/.vscode/mcp.json": json.dumps({"servers": {"two": STDIO}}),
            f"{deep}/three/.codex/config.toml": '[mcp_servers.three]\ncommand = "npx"\n',
        },
    )
    recorded = lambda name: f"/home/someone/{deep}/{name}"  # noqa: E731 - another machine's path
    (home / ".claude.json").write_text(json.dumps({"projects": {recorded("one"): {}}}))
    storage = home / ".config/Code/User/workspaceStorage/9f2c"
    storage.mkdir(parents=True)
    (storage / "workspace.json").write_text(json.dumps({"folder": "file://" + recorded("two")}))
    (home / ".codex").mkdir()
    (home / ".codex/config.toml").write_text(
        f'[projects."{recorded("three")}"]\ntrust_level = "trusted"\n'
    )
    report = scan(shadowmap, home, make_tree("root", {}), "linux")
    assert {f["evidence"]["server"] for f in servers(report)} == {"one", "two", "three"}


def test_claude_code_project_approval(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            "code/app/.mcp.json": json.dumps(
                {"mcpServers": {"ok": STDIO, "off": STDIO, "new": STDIO}}
            ),
            "code/app/.claude/settings.local.json": json.dumps({"enabledMcpjsonServers": ["ok"]}),
            ".claude/settings.json": json.dumps({"disabledMcpjsonServers": ["off"]}),
        },
    )
    report = scan(shadowmap, home, make_tree("root", {}), "linux")
    approvals = {f["evidence"]["server"]: f["evidence"]["approval"] for f in servers(report)}
    assert approvals == {"ok": "approved", "off": "disabled", "new": "pending"}


def test_what_a_server_entry_says(make_tree, shadowmap):
    supabase_token = "sbp_" + fakekeys.chunk(40, 9, "0123456789abcdef")
    home = make_tree(
        "home",
        {
            ".cursor/mcp.json": json.dumps(
                {
                    "mcpServers": {
                        "fs": {
                            "command": "npx",
                            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/"],
                        },
                        "pinned": {
                            "command": "npx",
                            "args": ["-y", "@notionhq/notion-mcp-server@1.8.1"],
                        },
                        "supabase": {
                            "command": "npx",
                            "args": [
                                "-y",
                                "@supabase/mcp-server-supabase@latest",
                                "--access-token",
                                supabase_token,
                            ],
                        },
                        "remote": {
                            "url": "http://mcp.example.net/mcp",
                            "headers": {"X-Api-Key": "${env:KEY}"},
                        },
                        "docker": {
                            "command": "docker",
                            "args": [
                                "run",
                                "-i",
                                "--rm",
                                "--privileged",
                                "-v",
                                "/var/run/docker.sock:/var/run/docker.sock",
                                "ghcr.io/github/github-mcp-server",
                            ],
                        },
                        "browser": {
                            "command": "npx",
                            "args": [
                                "@playwright/mcp@0.0.41",
                                "--user-data-dir",
                                "/home/a/.config/google-chrome",
                            ],
                        },
                        "prompt": {
                            "type": "http",
                            "url": "https://mcp.linear.app/mcp",
                            "headers": {"Authorization": "Bearer ${input:linear-token}"},
                        },
                        "approved": {
                            "command": "uvx",
                            "args": ["mcp-server-git==2025.1.14"],
                            "alwaysAllow": ["git_log"],
                        },
                    }
                }
            )
        },
    )
    run = shadowmap("scan", "--home", str(home), "--no-live", "--format", "json")
    report = json.loads(run.stdout)
    ev = {f["evidence"]["server"]: f["evidence"] for f in servers(report)}

    assert ev["fs"]["service"] == "filesystem" and "broad_filesystem" in ev["fs"]["risks"]
    assert ev["fs"]["package"] == "@modelcontextprotocol/server-filesystem"
    assert ev["fs"]["pinned"] is False and "unpinned_package" in ev["fs"]["risks"]
    assert ev["pinned"]["version"] == "1.8.1" and ev["pinned"]["pinned"] is True
    assert ev["pinned"]["service"] == "notion" and ev["pinned"]["auth"] == "none"
    assert ev["supabase"]["inline_secret"] is True and ev["supabase"]["args"][-1] == "…"
    assert ev["supabase"]["credentials"] == [
        {"name": "--access-token", "where": "arg", "storage": "inline"}
    ]
    assert ev["remote"]["remote"] is True and "plain_http_remote" in ev["remote"]["risks"]
    assert ev["remote"]["credentials"][0]["storage"] == "env_reference"
    assert ev["docker"]["launcher"] == "docker" and ev["docker"]["service"] == "github"
    assert {"docker_privileged", "docker_host_mount", "unpinned_package"} <= set(
        ev["docker"]["risks"]
    )
    assert {"browser_automation", "real_browser_profile"} <= set(ev["browser"]["risks"])
    assert ev["prompt"]["auth"] == "input_prompt" and ev["prompt"]["service"] == "linear"
    assert ev["approved"]["launcher"] == "uvx" and ev["approved"]["pinned"] is True
    assert "auto_approved_tools" in ev["approved"]["risks"]

    severities = {f["evidence"]["server"]: f["severity"] for f in servers(report)}
    assert severities["supabase"] == "high" and severities["docker"] == "medium"
    assert severities["pinned"] == "low"
    secrets = [f for f in report["findings"] if f["kind"] == "secret"]
    assert [Path(f["location"]["path"]).name for f in secrets] == ["mcp.json"]
    assert secrets[0]["secret"]["preview"].endswith(supabase_token[-4:])
    assert supabase_token not in run.everything


def test_a_changed_definition_is_reported(make_tree, shadowmap):
    home = make_tree("home", {".cursor/mcp.json": mcp_servers("gh", STDIO)})
    args = ("scan", "--home", str(home), "--no-live", "--format", "json")
    change = lambda: servers(json.loads(shadowmap(*args).stdout))[0]["evidence"][
        "definition_change"
    ]  # noqa: E731
    assert change() == "new"
    assert change() == "unchanged"
    (home / ".cursor/mcp.json").write_text(
        mcp_servers("gh", {"command": "npx", "args": ["-y", "evil"]})
    )
    assert change() == "changed"
    assert change() == "unchanged"
