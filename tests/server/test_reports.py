"""Ingest over HTTP: storing, retries, resolving and reopening, and every refusal."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from shadowmap.agent.models import Finding, Report, SourceId

if TYPE_CHECKING:
    from tests.server.conftest import Collector

# docs/collector-api.md: the report size limit.
LIMIT = 10 * 1024 * 1024

MakeFinding = Callable[..., Finding]
MakeReport = Callable[..., Report]
Rows = Callable[[str], dict[str, list[tuple[Any, ...]]]]


def _by_id(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {finding["id"]: finding for finding in findings}


def test_a_report_stores_its_findings(
    collector: Collector, make_report: MakeReport, make_finding: MakeFinding, make_secret_finding
) -> None:
    device = collector.enroll_ok()
    mcp, key = make_finding("github"), make_secret_finding(".env")

    response = collector.post_report(device["device_token"], make_report("machine-1", [mcp, key]))

    assert response.status_code == 201
    assert response.json()["status"] == "stored"
    found = _by_id(collector.findings())
    assert set(found) == {mcp.id, key.id}
    assert found[key.id]["secret"]["preview"] == "sk-proj-…Zx9Q"
    assert found[key.id]["value_hash"] == "a" * 64
    assert found[mcp.id]["hostname"] == "laptop-1"
    assert found[mcp.id]["location"]["pointer"] == "/mcpServers/github"
    assert found[mcp.id]["status"] == "open"
    assert found[mcp.id]["device_id"] == device["device_id"]
    assert found[mcp.id]["resolved_at"] is None


def test_a_retried_report_is_a_duplicate_and_changes_nothing(
    collector: Collector,
    db_url: str,
    table_rows: Rows,
    make_report: MakeReport,
    make_finding: MakeFinding,
) -> None:
    token = collector.enroll_ok()["device_token"]
    report = make_report("machine-1", [make_finding("github")])
    first = collector.post_report(token, report)
    before = table_rows(db_url)

    retry = collector.post_report(token, report)

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json() == {"report_id": report.report_id, "status": "duplicate"}
    assert table_rows(db_url) == before
    assert len(before["reports"]) == 1


def test_a_finding_gone_from_a_report_is_resolved_and_reopened_when_back(
    collector: Collector, make_report: MakeReport, make_finding: MakeFinding
) -> None:
    token = collector.enroll_ok()["device_token"]
    kept, gone = make_finding("github"), make_finding("slack")
    collector.post_report(token, make_report("machine-1", [kept, gone]))
    first_seen = _by_id(collector.findings())[gone.id]["first_seen"]

    collector.post_report(token, make_report("machine-1", [kept]))
    resolved = _by_id(collector.findings(status="resolved"))
    collector.post_report(token, make_report("machine-1", [kept, gone]))
    reopened = _by_id(collector.findings())

    assert set(resolved) == {gone.id}
    assert resolved[gone.id]["status"] == "resolved"
    assert resolved[gone.id]["resolved_at"] is not None
    assert reopened[gone.id]["status"] == "open"
    assert reopened[gone.id]["resolved_at"] is None
    assert reopened[gone.id]["first_seen"] == first_seen
    assert reopened[gone.id]["last_seen"] > first_seen


def test_findings_of_sources_or_users_a_report_does_not_cover_stay_open(
    collector: Collector, make_report: MakeReport, make_finding: MakeFinding, make_secret_finding
) -> None:
    token = collector.enroll_ok()["device_token"]
    key = make_secret_finding(".env")
    bobs = make_finding("bob-server", user="bob")
    nobodys = make_finding("system-server", user=None)
    both_users = ("alice", "bob")
    collector.post_report(token, make_report("machine-1", [key, bobs, nobodys], users=both_users))

    collector.post_report(token, make_report("machine-1", [], sources=(SourceId.MCP,)))

    still_open = set(_by_id(collector.findings()))
    resolved = set(_by_id(collector.findings(status="resolved")))
    assert still_open == {key.id, bobs.id}  # secrets not covered; bob not in the report
    assert resolved == {nobodys.id}  # no user, and its source is covered


def test_a_report_updates_the_device(
    collector: Collector, make_report: MakeReport, make_finding: MakeFinding
) -> None:
    token = collector.enroll_ok(os_user="alice")["device_token"]
    enrolled_seen = collector.devices()[0]["last_seen"]

    report = make_report("machine-1", [make_finding("a")], users=("carol",), hostname="renamed")
    collector.post_report(token, report)

    device = collector.devices()[0]
    assert device["os_user"] == "carol"
    assert device["hostname"] == "renamed"
    assert device["last_seen"] > enrolled_seen
    assert device["finding_counts"] == {"open": 1, "resolved": 0}


def test_a_nul_character_is_kept_as_a_replacement_not_a_500(
    collector: Collector, make_report: MakeReport, make_finding: MakeFinding
) -> None:
    """PostgreSQL cannot store NUL in text; a device whose config holds one still reports."""
    enrolled = collector.enroll("machine-1", hostname="lap\x00top")
    odd = make_finding("github").model_copy(update={"title": "MCP server git\x00hub"})

    stored = collector.post_report(enrolled.json()["device_token"], make_report("machine-1", [odd]))

    assert enrolled.status_code == 200, enrolled.text
    assert stored.status_code == 201, stored.text
    (finding,) = collector.findings()
    assert finding["title"] == "MCP server git\ufffdhub"
    assert collector.devices()[0]["hostname"] == "laptop-1"  # the report's host wins


def test_a_heartbeat_moves_the_device_and_keeps_no_report_row(
    collector: Collector,
    db_url: str,
    table_rows: Rows,
    make_report: MakeReport,
    make_finding: MakeFinding,
) -> None:
    token = collector.enroll_ok()["device_token"]
    kept = make_finding("github")
    collector.post_report(token, make_report("machine-1", [kept]))
    before = table_rows(db_url)
    seen = collector.devices()[0]["last_seen"]

    answers = [
        collector.post_report(token, make_report("machine-1", [], sources=())) for _ in range(3)
    ]

    after = table_rows(db_url)
    device = collector.devices()[0]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["status"] for a in answers} == {"heartbeat"}
    assert after["reports"] == before["reports"] and after["findings"] == before["findings"]
    assert device["heartbeats"] == 3 and device["last_seen"] > seen
    assert device["last_heartbeat_at"] == device["last_seen"]
    assert set(_by_id(collector.findings())) == {kept.id}  # a heartbeat resolves nothing


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(b"{not json", "Invalid JSON", id="bad-json"),
        pytest.param(b"[]", "should be an object", id="not-an-object"),
        pytest.param(b'{"report_id": "x"}', "host", id="missing-fields"),
    ],
)
def test_an_invalid_report_is_422_and_changes_nothing(
    collector: Collector, db_url: str, table_rows: Rows, body: bytes, says: str
) -> None:
    token = collector.enroll_ok()["device_token"]
    before = table_rows(db_url)

    response = collector.post_report(token, body)

    assert response.status_code == 422
    assert response.json()["error"] == "report_invalid"
    assert says in response.json()["detail"]
    assert table_rows(db_url) == before


@pytest.mark.parametrize(
    ("change", "says"),
    [
        pytest.param({"schema_version": 2}, "schema_version 2", id="future-schema"),
        pytest.param({"surprise": True}, "surprise", id="unknown-field"),
        pytest.param({"sources": ["floppy"]}, "sources.0", id="unknown-source"),
        pytest.param({"report_id": "r" * 200}, "report_id", id="long-report-id"),
    ],
)
def test_a_report_off_the_schema_is_422(
    sqlite_collector: Collector,
    sqlite_url: str,
    table_rows: Rows,
    make_report: MakeReport,
    make_finding: MakeFinding,
    change: dict[str, Any],
    says: str,
) -> None:
    token = sqlite_collector.enroll_ok()["device_token"]
    body = {**make_report("machine-1", [make_finding("a")]).model_dump(mode="json"), **change}
    before = table_rows(sqlite_url)

    response = sqlite_collector.post_report(token, _json(body))

    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]
    assert table_rows(sqlite_url) == before


def test_a_report_for_another_machine_is_403(
    collector: Collector, db_url: str, table_rows: Rows, make_report: MakeReport, make_finding
) -> None:
    token = collector.enroll_ok("machine-1")["device_token"]
    before = table_rows(db_url)

    response = collector.post_report(token, make_report("machine-2", [make_finding("a")]))

    assert response.status_code == 403
    assert response.json()["error"] == "machine_mismatch"
    assert table_rows(db_url) == before


@pytest.mark.parametrize("token", ["", "made-up-token"], ids=["no-token", "unknown-token"])
def test_a_report_without_a_known_token_is_401(
    sqlite_collector: Collector, make_report: MakeReport, token: str
) -> None:
    sqlite_collector.enroll_ok()

    response = sqlite_collector.post_report(token, make_report("machine-1", []))

    assert response.status_code == 401
    assert response.json()["error"] == "node_invalid"


def test_an_over_size_content_length_is_413_before_the_body_is_read(
    sqlite_collector: Collector,
) -> None:
    token = sqlite_collector.enroll_ok()["device_token"]
    connection = _connection(sqlite_collector)

    connection.putrequest("POST", "/api/v1/reports")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(LIMIT + 1))
    connection.endheaders()
    response = connection.getresponse()

    assert response.status == 413
    assert b"payload_too_large" in response.read()


def test_an_over_size_streamed_body_is_413_and_nothing_is_stored(
    sqlite_collector: Collector, sqlite_url: str, table_rows: Rows
) -> None:
    token = sqlite_collector.enroll_ok()["device_token"]
    before = table_rows(sqlite_url)
    connection = _connection(sqlite_collector)
    chunk = b" " * (1024 * 1024)

    connection.putrequest("POST", "/api/v1/reports")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for _ in range(LIMIT // len(chunk)):
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.send(b"1\r\n \r\n0\r\n\r\n")
    response = connection.getresponse()

    assert response.status == 413
    assert table_rows(sqlite_url) == before


def test_a_body_at_the_limit_is_read_and_judged_on_its_content(
    sqlite_collector: Collector,
) -> None:
    token = sqlite_collector.enroll_ok()["device_token"]

    response = sqlite_collector.post_report(token, b" " * LIMIT)

    assert response.status_code == 422  # read whole, then found not to be a report


def _connection(collector: Collector) -> http.client.HTTPConnection:
    address = urlsplit(collector.base_url)
    return http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)


def _json(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)
