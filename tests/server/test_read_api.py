"""The reading API: the admin token, devices with counts, findings by status and device."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from shadowmap.agent.models import Finding, Report

if TYPE_CHECKING:
    from tests.server.conftest import Collector


@pytest.mark.parametrize("path", ["/api/v1/devices", "/api/v1/findings"])
@pytest.mark.parametrize("token", [None, "wrong-admin-token-value"], ids=["none", "wrong"])
def test_reading_needs_the_admin_token(
    sqlite_collector: Collector, path: str, token: str | None
) -> None:
    response = sqlite_collector.admin_get(path, token=token)

    assert response.status_code == 401
    assert response.json()["error"] == "admin_token_invalid"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_enrol_secret_is_not_an_admin_token(sqlite_collector: Collector) -> None:
    secret = sqlite_collector.enroll_secret

    response = sqlite_collector.admin_get("/api/v1/devices", token=secret)

    assert response.status_code == 401


def test_devices_list_their_fields_and_finding_counts(
    collector: Collector, make_report: Callable[..., Report], make_finding: Callable[..., Finding]
) -> None:
    device = collector.enroll_ok()
    token = device["device_token"]
    collector.post_report(token, make_report("machine-1", [make_finding("a"), make_finding("b")]))
    collector.post_report(token, make_report("machine-1", [make_finding("a")]))

    (listed,) = collector.devices()

    assert listed["id"] == device["device_id"]
    assert listed["machine_id"] == "machine-1"
    assert listed["email"] == "alice@example.com"
    assert listed["os"] == "linux"
    assert listed["finding_counts"] == {"open": 1, "resolved": 1}
    assert {"enrolled_at", "last_seen", "hostname", "os_user"} <= set(listed)


def test_findings_filter_by_status_and_device(
    collector: Collector, make_report: Callable[..., Report], make_finding: Callable[..., Finding]
) -> None:
    one = collector.enroll_ok("machine-1")
    two = collector.enroll_ok("machine-2")
    collector.post_report(one["device_token"], make_report("machine-1", [make_finding("a")]))
    collector.post_report(one["device_token"], make_report("machine-1", []))
    collector.post_report(two["device_token"], make_report("machine-2", [make_finding("b")]))

    every = collector.findings(status="all")
    of_two = collector.findings(device_id=two["device_id"])

    assert len(every) == 2
    assert [f["status"] for f in collector.findings()] == ["open"]
    assert [f["device_id"] for f in collector.findings(status="resolved")] == [one["device_id"]]
    assert [f["device_id"] for f in of_two] == [two["device_id"]]
    assert collector.findings(device_id="no-such-device") == []


def test_findings_carry_the_contract_fields(
    sqlite_collector: Collector, make_report: Callable[..., Report], make_secret_finding
) -> None:
    token = sqlite_collector.enroll_ok()["device_token"]
    sqlite_collector.post_report(token, make_report("machine-1", [make_secret_finding(".env")]))

    (finding,) = sqlite_collector.findings()

    assert set(finding) == {
        "id", "device_id", "hostname", "detector", "kind", "source", "title", "severity",
        "vendor", "user", "location", "evidence", "secret", "value_hash", "definition_hash",
        "status", "first_seen", "last_seen", "resolved_at",
    }  # fmt: skip


def test_a_bad_status_filter_is_422_in_the_error_shape(sqlite_collector: Collector) -> None:
    response = sqlite_collector.admin_get("/api/v1/findings", status="maybe")

    assert response.status_code == 422
    assert response.json()["error"] == "request_invalid"
    assert "status" in response.json()["detail"]


def test_unknown_api_paths_answer_in_the_error_shape(sqlite_collector: Collector) -> None:
    missing = sqlite_collector.admin_get("/api/v1/nothing-here")
    wrong_method = sqlite_collector.http.delete(sqlite_collector.url("/api/v1/devices"), timeout=5)

    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "not found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_healthz_needs_no_auth(sqlite_collector: Collector) -> None:
    response = sqlite_collector.http.get(sqlite_collector.url("/healthz"), timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
