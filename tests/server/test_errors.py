"""Error responses: a failure inside the collector is a bare 500 that echoes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from tests.server.conftest import Collector

# What a failing route knows and a client must never see.
INTERNALS = "password=hunter2 at /srv/secret/path.py line 42"


def _add_failing_routes(app: FastAPI) -> None:
    def fail() -> None:
        raise RuntimeError(INTERNALS)

    app.add_api_route("/api/v1/boom", fail)
    app.add_api_route("/boom", fail)


def test_an_internal_failure_is_a_500_without_internals(
    sqlite_url: str, serve_app: Callable[..., Collector]
) -> None:
    collector = serve_app(sqlite_url, prepare=_add_failing_routes)

    api = collector.http.get(collector.url("/api/v1/boom"), timeout=10)
    page = collector.http.get(collector.url("/boom"), timeout=10)

    assert api.status_code == 500
    assert api.json()["error"] == "internal_error"
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    for response in (api, page):
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
        assert "Traceback" not in response.text
