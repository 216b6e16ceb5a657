"""Two collector processes on one PostgreSQL database: the grants, people, conclusions,
vendor decisions, accounts, API tokens and sessions of one are those of the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import requests

from shadowmap.agent.models import Finding, Report
from tests.conftest import Run
from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, OKTA_FILES, asset
from tests.server.pages_helpers import PASSWORD, new_account, new_token

if TYPE_CHECKING:
    from tests.server.conftest import Collector, CollectorProcess


def _get(collector: Collector, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token or collector.admin_token}"}
    response = requests.get(collector.url(path), headers=headers, timeout=20)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.postgres
def test_two_replicas_share_the_inventory(
    postgres_url: str,
    start_collector: Callable[..., CollectorProcess],
    shadowmap: Callable[..., Run],
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
) -> None:
    one = start_collector("--db", postgres_url).collector
    two = start_collector("--db", postgres_url).collector
    for provider, names in (("google", GOOGLE_FILES), ("entra", ENTRA_FILES), ("okta", OKTA_FILES)):
        files = [f"--file={asset(n)}" for n in names]
        run = shadowmap(
            "collector", "import-grants", "--provider", provider, "--db", postgres_url, *files
        )
        assert run.code == 0, run.stderr
    device = one.enroll_ok("m-bob", hostname="bob-laptop", os_user="bob", email="bob@example.com")
    assert (
        two.post_report(
            device["device_token"], make_report("m-bob", [make_finding("outlook")])
        ).status_code
        == 201
    )
    token = new_token(one, "viewer")
    new_account(two, "ana", "viewer")
    decided = requests.put(
        two.url("/api/v1/vendors/otter-ai"),
        json={"sanctioned": True},
        headers={"Authorization": f"Bearer {two.admin_token}"},
        timeout=10,
    )
    browser = requests.Session()
    browser.post(one.url("/login"), data={"username": "ana", "password": PASSWORD}, timeout=10)

    first, second = _get(one, "/api/v1/inventory"), _get(two, "/api/v1/inventory", token)
    first.pop("generated_at"), second.pop("generated_at")
    page = browser.get(two.url("/people"), timeout=10)

    assert decided.status_code == 200
    assert first == second
    assert first["summary"]["live_grants"] == 22 and first["summary"]["devices"] == 1
    assert next(v for v in first["vendors"] if v["key"] == "otter-ai")["sanctioned"] is True
    assert (
        page.status_code == 200 and "ana · viewer" in page.text and "bob@example.com" in page.text
    )
