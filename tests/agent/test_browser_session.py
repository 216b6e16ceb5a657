"""Browser-session reuse (AAM 3.5): one finding per way automation reaches a person's
session, per OS layout; none for look-alikes; and real processes on this machine."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from tests.fakekeys import chunk

HEX = "0123456789abcdef"
# Built from pieces, so that scanning this repository finds no cookie-reading code in it.
COOKIE_LIB = "browser_" + "cookie3"
CHROME = {
    "linux": ".config/google-chrome",
    "macos": "Library/Application Support/Google/Chrome",
    "windows": "AppData/Local/Google/Chrome/User Data",
}
FOREIGN = {"linux": "/home/alice/", "macos": "/Users/alice/", "windows": "C:\\Users\\alice\\"}


def session_tokens() -> dict[str, str]:
    return {
        "slack-client-token": "xox"
        + "c-"
        + "-".join(chunk(10, s, "0123456789") for s in (1, 2, 3))
        + "-"
        + chunk(64, 4, HEX),
        "slack-cookie": "xox" + "d-" + chunk(90, 5),
        "claude-session-key": "sk-ant-" + "sid01-" + chunk(86, 6),
        "chatgpt-session-token": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0"
        + ".."
        + chunk(16, 7)
        + "."
        + chunk(300, 8)
        + "."
        + chunk(22, 9),
    }


def planted(os_name: str, tokens: dict[str, str]) -> dict[str, str]:
    profile = FOREIGN[os_name] + CHROME[os_name].replace("/", "\\" if os_name == "windows" else "/")
    mcp = {
        "mcpServers": {
            "playwright": {
                "command": "npx",
                "args": ["@playwright/mcp@0.0.41", "--user-data-dir", profile],
            },
            "devtools": {"command": "npx", "args": ["chrome-devtools-mcp@0.6.0", "--autoConnect"]},
            "isolated": {
                "command": "npx",
                "args": [
                    "@playwright/mcp@0.0.41",
                    "--isolated",
                    "--user-data-dir",
                    "/tmp/pw-profile",
                ],
            },
        }
    }
    return {
        ".cursor/mcp.json": json.dumps(mcp),
        ".config/browseruse/config.json": json.dumps(
            {"browser_profile": {"x": {"cdp_url": "http://127.0.0.1:9222"}}}
        ),
        f"{CHROME[os_name]}/DevToolsActivePort": "9222\n/devtools/browser/3b1f\n",
        "src/bot/.env": "\n".join(
            [
                f"SLACK_MCP_XOXC_TOKEN={tokens['slack-client-token']}",
                f"SLACK_MCP_XOXD_TOKEN={tokens['slack-cookie']}",
                f"CLAUDE_SESSION_KEY={tokens['claude-session-key']}",
                f"CHATGPT_SESSION_TOKEN={tokens['chatgpt-session-token']}",
            ]
        )
        + "\n",
        "src/bot/cookies.txt": "# Netscape HTTP Cookie File\n"
        + "\t".join([".example.com", "TRUE", "/", "TRUE", "0", "sid", "v"])
        + "\n",
        "src/bot/auth/state.json": json.dumps(
            {"cookies": [{"name": "sid", "value": "v"}], "origins": []}
        ),
        "src/bot/grab.py": f"import {COOKIE_LIB}\ncj = {COOKIE_LIB}.chrome(domain_name='x')\n",
    }


LOOK_ALIKES = {
    ".cursor/mcp.json": json.dumps(
        {
            "mcpServers": {
                "pw": {"command": "npx", "args": ["@playwright/mcp@0.0.41", "--isolated"]},
                "tmp": {
                    "command": "npx",
                    "args": ["@playwright/mcp", "--user-data-dir", "/tmp/profile-1"],
                },
            }
        }
    ),
    "src/app/main.py": "import requests\nsession = requests.Session()\nsession.cookies.clear()\n",
    "src/app/data.json": json.dumps({"cookies": "none", "origins": "n/a"}),
    "src/app/.env": "SLACK_BOT_NAME=helper\nSESSION_SECRET_NAME=session\n",
    ".config/google-chrome/Default/Preferences": "{}",
}


def scan(shadowmap, home, os_name, live=False) -> list[dict]:
    args = ["scan", "--home", str(home), "--os", os_name, "--format", "json"]
    run = shadowmap(*args, *([] if live else ["--no-live"]))
    assert run.code == 0, run.stderr
    return [f for f in json.loads(run.stdout)["findings"] if f["kind"] == "browser_session"]


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_each_way_in_is_one_finding(os_name, make_tree, shadowmap):
    tokens = session_tokens()
    home = make_tree("home", planted(os_name, tokens))
    run = shadowmap("scan", "--home", str(home), "--os", os_name, "--no-live", "--format", "json")
    found = [f for f in json.loads(run.stdout)["findings"] if f["kind"] == "browser_session"]
    mechanisms = sorted(f["evidence"]["mechanism"] for f in found)
    assert mechanisms == sorted(
        [
            "automation_flag",
            "automation_flag",
            "agent_config",
            "devtools_active_port",
            "session_token",
            "session_token",
            "session_token",
            "session_token",
            "cookie_file",
            "storage_state",
            "cookie_library",
        ]
    )
    flags = {
        f["evidence"]["flag"]: f for f in found if f["evidence"]["mechanism"] == "automation_flag"
    }
    assert flags["--user-data-dir"]["severity"] == "high" and "--autoConnect" in flags
    by_token = {
        f["evidence"]["token"]: f for f in found if f["evidence"]["mechanism"] == "session_token"
    }
    assert set(by_token) == set(tokens)
    assert by_token["claude-session-key"]["vendor"] == "anthropic"
    assert by_token["slack-cookie"]["secret"]["preview"].startswith("xoxd-…")
    assert all(f["value_hash"].startswith("hmac-sha256:") for f in by_token.values())
    assert all(f["user"] and "AAM-3.5" in f["aam_controls"] for f in found)
    for value in tokens.values():
        assert value not in run.everything


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_look_alikes_are_not_findings(os_name, make_tree, shadowmap):
    assert scan(shadowmap, make_tree("home", LOOK_ALIKES), os_name) == []


def test_a_program_holding_the_cookie_store_open_is_found(tmp_path, make_tree, shadowmap):
    home = make_tree("home", {})
    cookies = home / ".config/google-chrome/Default/Cookies"
    cookies.parent.mkdir(parents=True)
    with closing(sqlite3.connect(cookies)) as db:
        db.execute("CREATE TABLE cookies (name TEXT)")
    reader = tmp_path / "scraper"
    shutil.copy(sys.executable, reader)
    child = subprocess.Popen(
        [
            str(reader),
            "-c",
            "import sys, time; f = open(sys.argv[1], 'rb'); time.sleep(30)",
            str(cookies),
        ]
    )
    try:
        time.sleep(0.5)
        found = scan(shadowmap, home, "linux", live=True)
    finally:
        child.kill()
        child.wait()
    held = [
        f
        for f in found
        if f["evidence"]["mechanism"] == "cookie_store_open" and f["evidence"]["pid"] == child.pid
    ]  # other programs on this machine may show too
    assert len(held) == 1, [f["evidence"] for f in found]
    assert held[0]["evidence"]["process"] == "scraper"
    assert held[0]["location"]["path"] == str(cookies) and held[0]["severity"] == "high"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_a_browser_opened_for_remote_debugging_is_found(tmp_path, make_tree, shadowmap):
    profile = tmp_path / "profile"
    port = free_port()
    browser = subprocess.Popen(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (profile / "DevToolsActivePort").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        found = scan(shadowmap, make_tree("home", {}), "linux", live=True)
    finally:
        browser.kill()
        browser.wait()
    debug = [
        f
        for f in found
        if f["evidence"]["mechanism"] == "debug_port" and f["evidence"]["profile"] == str(profile)
    ]
    assert len(debug) == 1, [f["evidence"] for f in debug]
    assert f"--remote-debugging-port={port}" in debug[0]["evidence"]["flags"]
    assert debug[0]["evidence"]["real_profile"] is False and debug[0]["severity"] == "medium"


def test_scan_repo_finds_session_reuse_in_tree_and_history(tmp_path, shadowmap):
    from tests.agent.repo_helpers import make_repo

    repo = make_repo(tmp_path / "repo")
    token = session_tokens()["slack-client-token"]
    repo.write("bot/grab.py", f"import {COOKIE_LIB}\njar = {COOKIE_LIB}.chrome()\n")
    repo.write("bot/.env", f"SLACK_MCP_XOXC_TOKEN={token}\n")
    first = repo.commit("add the bot")
    repo.git("rm", "-q", "bot/grab.py", "bot/.env")
    repo.commit("remove it")
    repo.write(
        "e2e/attach.ts",
        "const browser = await chromium." + "connectOver" + "CDP('http://localhost:9222');\n",
    )
    run = shadowmap("scan-repo", str(repo.root), "--format", "json")
    assert run.code == 1, run.stderr
    found = {
        f["evidence"]["mechanism"]: f
        for f in json.loads(run.stdout)["findings"]
        if f["kind"] == "browser_session"
    }
    assert set(found) == {"cookie_library", "session_token"}
    libs = [f for f in json.loads(run.stdout)["findings"] if f["evidence"].get("library")]
    assert {f["evidence"]["library"] for f in libs} == {"browser-" + "cookie3", "cdp-connect"}
    assert found["session_token"]["location"]["commit"] == first
    assert token not in run.everything
