"""The issue's three scenarios end to end, through real processes on loopback: a collector
process, `shadowmap agent once` and `shadowmap scan-repo` against it, grants imported with
`shadowmap collector import-grants`, and the result read over HTTP and from the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests import fakekeys
from tests.agent.repo_helpers import make_repo
from tests.conftest import Run
from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, asset

if TYPE_CHECKING:
    from tests.server.conftest import Collector, CollectorProcess

# A commit date old enough that the keys are past the 90-day rotation age (AAM-3.4).
OLD_COMMIT = "2024-01-02T03:04:05+00:00"


def api(
    collector: Collector, method: str, path: str, token: str | None = None, **kwargs: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token or collector.admin_token}"}
    response = requests.request(method, collector.url(path), headers=headers, timeout=20, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def import_grants(
    shadowmap: Callable[..., Run], db: str, provider: str, names: tuple[str, ...]
) -> None:
    files = [f"--file={asset(n)}" for n in names]
    run = shadowmap("collector", "import-grants", "--provider", provider, "--db", db, *files)
    assert run.code == 0, run.stderr


@pytest.fixture
def running(db_url: str, start_collector: Callable[..., CollectorProcess]) -> Collector:
    return start_collector("--db", db_url).collector


def test_chatgpt_signed_in_with_google(
    running: Collector, db_url: str, shadowmap: Callable[..., Run]
) -> None:
    """Scenario 1: the grant is in tokens.list; OpenAI is the vendor, alice the owner."""
    import_grants(shadowmap, db_url, "google", GOOGLE_FILES)

    openai = api(running, "GET", "/api/v1/vendors/openai")
    (grant,) = [g for g in openai["grant_list"] if g["user"] == "alice@example.com"]
    api(
        running,
        "PUT",
        "/api/v1/vendors/openai",
        json={"sanctioned": True, "note": "ChatGPT Enterprise"},
    )
    report = json.loads(shadowmap("collector", "report", "--db", db_url, "--format", "json").stdout)

    assert (grant["app"], grant["provider"], grant["vendor"]) == ("ChatGPT", "google", "openai")
    assert grant["access"] == "delegated (acts as the user)"
    assert grant["lifetime"] == "short-lived"
    assert "https://www.googleapis.com/auth/drive.readonly" in grant["scopes"]
    assert grant["granted_at"].startswith("2025-05-12")
    assert openai["sanctioned"] is False and "no one sanctioned it" in openai["sanction_reason"]
    after = next(v for v in report["vendors"] if v["key"] == "openai")
    risky = [
        c for c in report["conclusions"] if c["kind"] == "risky_scopes" and c["vendor"] == "openai"
    ]
    assert after["sanctioned"] is True and "sanctioned by (admin token)" in after["sanction_reason"]
    assert [c["evidence"]["scopes"] for c in risky] == [
        [
            "https://www.googleapis.com/auth/drive.readonly",
            "https://www.googleapis.com/auth/gmail.readonly",
        ]
    ]


def test_claude_desktop_with_an_outlook_calendar_mcp_server_and_its_entra_grant(
    running: Collector, db_url: str, shadowmap: Callable[..., Run], make_tree: Callable[..., Path]
) -> None:
    """Scenario 2: the app, the MCP server, the grant and the person are one entry."""
    config = {
        "mcpServers": {
            "outlook-calendar": {"command": "npx", "args": ["-y", "@softeria/ms-365-mcp-server"]}
        }
    }
    home = make_tree("home", {".config/Claude/claude_desktop_config.json": json.dumps(config)})
    root = make_tree("root", {"usr/bin/claude-desktop": "#!/bin/sh\n"})
    run = shadowmap(
        "agent",
        "once",
        "--collector",
        running.base_url,
        "--home",
        str(home),
        "--root",
        str(root),
        "--no-live",
        "--email",
        "bob@example.com",
        env={"SHADOWMAP_ENROLL_SECRET": running.enroll_secret},
    )
    assert run.code == 0, run.stderr
    import_grants(shadowmap, db_url, "entra", ENTRA_FILES)

    (entry,) = api(
        running, "GET", "/api/v1/conclusions", params={"kind": "mcp_server_with_idp_grant"}
    )
    person = api(running, "GET", f"/api/v1/people/{entry['person_id']}")

    evidence = entry["evidence"]
    assert evidence["person"] == "bob@example.com"
    assert any(title.startswith("Claude") for title in evidence["apps"]), evidence["apps"]
    assert evidence["mcp_server"].startswith("MCP server outlook-calendar in Claude Desktop")
    assert evidence["service"] == "microsoft-365"
    assert evidence["grant"]["provider"] == "entra" and evidence["grant"]["app"] == "Claude"
    assert {"Mail.Read", "Calendars.Read"} <= set(evidence["grant"]["scopes"])
    assert evidence["link"] == "the MCP client's vendor holds a grant to the same data"
    assert entry["vendor"] == "anthropic" and entry["device_id"]
    assert [d["id"] for d in person["device_list"]] == [entry["device_id"]]
    assert person["joins"][entry["device_id"]]["rule"] == "email"


def _langgraph_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    keys = {
        "openai": fakekeys.openai_project(seed=61),
        "google": fakekeys.google(seed=62),
        "pinecone": fakekeys.pinecone(seed=63),
        "gong": fakekeys.chunk(24, 64, fakekeys.LOWER_ALNUM.upper()),
    }
    repo = make_repo(tmp_path / "sales-agent")
    repo.write(
        "agent/graph.py", "from langgraph.graph import StateGraph\n\ngraph = StateGraph(dict)\n"
    )
    repo.write("agent/tools.py", "import os\n\nGONG_URL = 'https://api.gong.io/v2/calls'\n")
    repo.write(
        ".env",
        "\n".join(
            [
                f"OPENAI_API_KEY={keys['openai']}",
                f"GOOGLE_API_KEY={keys['google']}",
                f"PINECONE_API_KEY={keys['pinecone']}",
                f"GONG_ACCESS_KEY={keys['gong']}",
                f"GONG_ACCESS_KEY_SECRET={fakekeys.chunk(40, 65)}",
            ]
        )
        + "\n",
    )
    repo.commit("sales agent", date=OLD_COMMIT)
    return repo.root, keys


@pytest.fixture
def scanned_repo(
    running: Collector, shadowmap: Callable[..., Run], tmp_path: Path
) -> tuple[Collector, dict[str, str], Run]:
    root, keys = _langgraph_repo(tmp_path)
    out = tmp_path / "scan.json"
    scan = shadowmap(
        "scan-repo", str(root), "--format", "json", "--output", str(out), "--no-progress"
    )
    assert scan.code == 1, scan.stderr  # keys found
    uploader = api(running, "POST", "/api/v1/tokens", json={"name": "ci", "role": "uploader"})[
        "token"
    ]
    api(running, "POST", "/api/v1/repo-reports", token=uploader, data=out.read_bytes())
    return running, keys, scan


def test_a_langgraph_repo_scanned_in_ci_with_its_keys(
    scanned_repo: tuple[Collector, dict[str, str], Run],
) -> None:
    """Scenario 3: every key is tied to the repo, with its age and vendor; no key is shown."""
    running, keys, _scan = scanned_repo

    (repo,) = api(running, "GET", "/api/v1/repositories")
    found = api(running, "GET", "/api/v1/keys")
    report = api(running, "GET", "/api/v1/inventory")

    assert repo["name"] == "sales-agent"
    vendors = {row["vendor"] for row in found}
    assert {"openai", "google", "pinecone"} <= vendors
    assert all(row["places"] == ["repository sales-agent"] for row in found)
    assert all(row["oldest_age_days"] > 300 for row in found)
    by_vendor = {v["key"]: v for v in report["vendors"]}
    assert by_vendor["openai"]["key_list"][0]["place"] == "sales-agent"
    assert by_vendor["pinecone"]["key_list"][0]["key_first_committed_at"].startswith("2024-01-02")
    text = json.dumps(report) + json.dumps(found)
    assert not any(key in text for key in keys.values())


def test_the_gong_key_of_the_langgraph_repo_is_found(
    scanned_repo: tuple[Collector, dict[str, str], Run],
) -> None:
    running, _keys, _scan = scanned_repo

    found = api(running, "GET", "/api/v1/keys")

    assert "gong" in {row["vendor"] for row in found}
