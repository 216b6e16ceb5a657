"""The policy file: what it sanctions is marked so, everything else AI is shadow AI."""

from __future__ import annotations

import json

import pytest

POLICY = """schema_version: 1
sanctioned:
  vendors: [github]
  apps: [claude-code]
  mcp_servers:
    - {service: linear}
    - {package: "@acme/*", client: cursor}
max_key_age_days: 60
notifications: {enabled: true, min_severity: high, quiet_hours: {start: "22:00", end: "07:00"}}
"""


@pytest.fixture
def home(make_tree):
    return make_tree(
        "home",
        {
            ".claude/settings.json": "{}",
            ".codex/config.toml": "",
            ".cursor/mcp.json": json.dumps(
                {
                    "mcpServers": {
                        "linear": {"url": "https://mcp.linear.app/sse"},
                        "acme": {"command": "npx", "args": ["-y", "@acme/tools@1.0.0"]},
                        "gh": {
                            "command": "npx",
                            "args": ["-y", "@modelcontextprotocol/server-github"],
                        },
                        "random": {"command": "npx", "args": ["-y", "some-mcp@2.0.0"]},
                    }
                }
            ),
        },
    )


def test_sanctioned_and_shadow_ai(home, make_tree, shadowmap, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    run = shadowmap(
        "scan",
        "--home",
        str(home),
        "--root",
        str(make_tree("root", {})),
        "--os",
        "linux",
        "--no-live",
        "--policy",
        str(policy),
        "--format",
        "json",
    )
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["policy"].startswith("sha256:")
    marks = {
        f["evidence"].get("server") or f["evidence"].get("app"): f["evidence"]["sanctioned"]
        for f in report["findings"]
        if f["kind"] in ("mcp_server", "cli_agent", "app")
    }
    assert marks == {
        "linear": True,
        "acme": True,
        "gh": True,
        "random": False,
        "claude-code": True,
        "codex-cli": False,
        "cursor": False,
    }
    shadow = [f for f in report["findings"] if f["evidence"].get("shadow_ai")]
    assert all("AAM-1.5" in f["aam_controls"] for f in shadow) and len(shadow) == 3


def test_without_a_policy_nothing_is_judged(home, shadowmap):
    report = json.loads(
        shadowmap("scan", "--home", str(home), "--no-live", "--format", "json").stdout
    )
    assert report["policy"] is None
    assert all("sanctioned" not in f["evidence"] for f in report["findings"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("schema_version: 2\n", "schema_version"),
        ("schema_version: 1\nsanctioned: {vendorz: [x]}\n", "Additional properties"),
        (
            "schema_version: 1\nnotifications: {quiet_hours: {start: '25:00', end: '07:00'}}\n",
            "start",
        ),
        ("schema_version: [1\n", "is not YAML"),
    ],
)
def test_a_bad_policy_given_on_the_command_line_is_a_usage_error(
    text, message, home, shadowmap, tmp_path
):
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    run = shadowmap("scan", "--home", str(home), "--no-live", "--policy", str(policy))
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_a_missing_policy_file_is_a_usage_error(home, shadowmap, tmp_path):
    run = shadowmap("scan", "--home", str(home), "--policy", str(tmp_path / "nope.yaml"))
    assert run.code == 2 and "does not exist" in run.stderr
