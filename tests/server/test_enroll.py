"""Enrolment over HTTP: the secret, the token, the org key, and re-enrolment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from shadowmap.agent.models import Report

if TYPE_CHECKING:
    from tests.server.conftest import Collector


def test_enrolment_hands_out_a_token_and_the_org_key(collector: Collector) -> None:
    enrolled = collector.enroll_ok()

    assert set(enrolled) == {"device_id", "device_token", "fingerprint_key", "fingerprint_scope"}
    assert re.fullmatch(r"[0-9a-f]{64}", enrolled["fingerprint_key"])
    assert re.fullmatch(r"org:[0-9a-f]{32}", enrolled["fingerprint_scope"])
    assert len(enrolled["device_token"]) >= 43


def test_every_device_gets_the_same_org_key(collector: Collector) -> None:
    first = collector.enroll_ok("machine-1")
    second = collector.enroll_ok("machine-2")

    assert first["device_id"] != second["device_id"]
    assert first["fingerprint_key"] == second["fingerprint_key"]
    assert first["fingerprint_scope"] == second["fingerprint_scope"]


def test_a_wrong_enrol_secret_is_401(collector: Collector) -> None:
    response = collector.enroll(enroll_secret="not-the-enrol-secret-at-all")

    assert response.status_code == 401
    assert response.json()["error"] == "enroll_secret_invalid"
    assert collector.devices() == []


def test_a_malformed_enrolment_is_422(collector: Collector) -> None:
    response = collector.http.post(collector.url("/api/v1/enroll"), data=b"{not json", timeout=10)
    missing = collector.enroll(os="beos")

    assert response.status_code == 422
    assert response.json()["error"] == "request_invalid"
    assert missing.status_code == 422
    assert "os" in missing.json()["detail"]


def test_enrolling_again_keeps_the_device_and_kills_the_old_token(
    collector: Collector, make_report: Callable[..., Report]
) -> None:
    first = collector.enroll_ok("machine-1", hostname="old-name")
    second = collector.enroll_ok("machine-1", hostname="new-name")

    old = collector.post_report(first["device_token"], make_report("machine-1", []))
    new = collector.post_report(second["device_token"], make_report("machine-1", []))

    assert second["device_id"] == first["device_id"]
    assert second["device_token"] != first["device_token"]
    assert old.status_code == 401
    assert old.json()["error"] == "node_invalid"
    assert new.status_code == 201
    devices = collector.devices()
    assert [d["id"] for d in devices] == [first["device_id"]]
    assert devices[0]["hostname"] == "laptop-1"  # the report's hostname, the latest word


def test_tokens_are_stored_only_as_hashes(
    sqlite_collector: Collector, sqlite_url: str, table_rows: Callable[..., dict]
) -> None:
    enrolled = sqlite_collector.enroll_ok()

    dump = repr(table_rows(sqlite_url))

    assert enrolled["device_token"] not in dump
