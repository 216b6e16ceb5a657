"""Run as root over a machine, one report covers every person's home, each finding theirs."""

from __future__ import annotations

import json

from tests import fakekeys

PASSWD = (
    "\n".join(
        [
            "root:x:0:0:root:/root:/bin/bash",
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
            "alice:x:1000:1000:Alice:/home/alice:/bin/zsh",
            "bob:x:1001:1001:Bob:/home/bob:/bin/bash",
            "svc:x:1002:1002::/home/svc:/usr/sbin/nologin",
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
            "broken line",
        ]
    )
    + "\n"
)


def test_every_home_is_scanned_and_findings_carry_their_user(make_tree, shadowmap):
    key = fakekeys.github_classic(seed=77)
    root = make_tree(
        "root",
        {
            "etc/passwd": PASSWD,
            "root/.cursor/mcp.json": json.dumps({"mcpServers": {"ops": {"command": "npx"}}}),
            "home/alice/.cursor/mcp.json": json.dumps(
                {"mcpServers": {"notes": {"command": "npx"}}}
            ),
            "home/bob/proj/.env": f"GITHUB_TOKEN={key}\n",
            "home/svc/.cursor/mcp.json": json.dumps({"mcpServers": {"svc": {"command": "npx"}}}),
        },
    )
    run = shadowmap(
        "scan", "--root", str(root), "--all-users", "--os", "linux", "--no-live", "--format", "json"
    )
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["users"] == ["root", "alice", "bob"]
    owned = {
        (f["user"], f["kind"], f["evidence"].get("server") or f["secret"]["kind"])
        for f in report["findings"]
        if f["kind"] in ("mcp_server", "secret")
    }
    assert owned == {
        ("root", "mcp_server", "ops"),
        ("alice", "mcp_server", "notes"),
        ("bob", "secret", "github-token"),
    }
    assert key not in run.everything


def test_macos_users_folder(make_tree, shadowmap):
    root = make_tree(
        "root",
        {
            "Users/carol/.cursor/mcp.json": json.dumps({"mcpServers": {"c": {"command": "npx"}}}),
            "Users/Shared/.cursor/mcp.json": json.dumps({"mcpServers": {"s": {"command": "npx"}}}),
        },
    )
    report = json.loads(
        shadowmap(
            "scan",
            "--root",
            str(root),
            "--all-users",
            "--os",
            "macos",
            "--no-live",
            "--format",
            "json",
        ).stdout
    )
    assert report["users"] == ["carol"]
    assert [f["evidence"]["server"] for f in report["findings"] if f["kind"] == "mcp_server"] == [
        "c"
    ]


def test_all_users_and_home_exclude_each_other(make_tree, shadowmap):
    run = shadowmap("scan", "--all-users", "--home", str(make_tree("home", {})))
    assert run.code == 2 and "exclude each other" in run.stderr
