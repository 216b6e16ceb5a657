"""Two collector processes on one PostgreSQL database: one org key, one set of data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from shadowmap.agent.models import Finding, Report

if TYPE_CHECKING:
    from tests.server.conftest import CollectorProcess


@pytest.mark.postgres
def test_two_replicas_share_one_database(
    postgres_url: str,
    start_collector: Callable[..., CollectorProcess],
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
) -> None:
    started: list[CollectorProcess] = []
    # Started together: both migrate and make the org key at once, and must agree.
    threads = [
        threading.Thread(target=lambda: started.append(start_collector("--db", postgres_url)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(started) == 2, "a replica did not start; see the test's log"
    one, two = (running.collector for running in started)
    report = make_report("machine-1", [make_finding("a")])

    first = one.enroll_ok("machine-1")
    second = two.enroll_ok("machine-2")
    stored = two.post_report(first["device_token"], report)
    retried = one.post_report(first["device_token"], report)
    again = two.enroll_ok("machine-1")

    assert first["fingerprint_key"] == second["fingerprint_key"]
    assert first["fingerprint_scope"] == second["fingerprint_scope"]
    assert (stored.status_code, retried.status_code) == (201, 200)
    assert one.devices() == two.devices()
    assert [f["id"] for f in one.findings()] == [make_finding("a").id]
    assert one.findings() == two.findings()
    assert again["device_id"] == first["device_id"]
    assert one.post_report(first["device_token"], make_report("machine-1", [])).status_code == 401
