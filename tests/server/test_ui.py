"""The pages: login with the admin token, the overview, logout, and escaping."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from shadowmap.agent.models import Finding, Report

if TYPE_CHECKING:
    from tests.server.conftest import Collector

# The classic XSS probe, and how Jinja2 must show it.
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _login(collector: Collector, token: str | None = None) -> requests.Response:
    form = {"token": collector.admin_token if token is None else token}
    return collector.http.post(collector.url("/login"), data=form, timeout=10)


def test_the_overview_sends_a_stranger_to_the_login_page(sqlite_collector: Collector) -> None:
    response = sqlite_collector.http.get(sqlite_collector.url("/"), timeout=10)

    assert response.url.endswith("/login")
    assert response.status_code == 200
    assert '<form method="post" action="/login">' in response.text
    assert 'name="token"' in response.text


def test_a_wrong_token_does_not_sign_in(sqlite_collector: Collector) -> None:
    response = _login(sqlite_collector, "wrong-admin-token-value")

    assert response.status_code == 401
    assert "not the admin token" in response.text
    assert "shadowmap_session" not in sqlite_collector.http.cookies


def test_signing_in_sets_a_strict_http_only_session_cookie(sqlite_collector: Collector) -> None:
    response = _login(sqlite_collector)

    (redirect,) = response.history
    cookie = redirect.headers["set-cookie"]
    assert redirect.status_code == 303
    assert "shadowmap_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert sqlite_collector.admin_token not in cookie
    assert response.url.endswith("/")


def test_the_overview_lists_devices_and_open_findings(
    collector: Collector,
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
    make_secret_finding: Callable[..., Finding],
) -> None:
    token = collector.enroll_ok(hostname="alice-laptop")["device_token"]
    report = make_report(
        "machine-1", [make_finding("github"), make_secret_finding(".env")], hostname="alice-mbp"
    )
    collector.post_report(token, report)

    page = _login(collector).text

    assert "alice-mbp" in page
    assert "MCP server github" in page
    assert "OpenAI key in .env" in page
    assert "sk-proj-…Zx9Q" in page
    assert "/home/alice/.cursor/mcp.json" in page
    assert 'class="sev sev-high"' in page


def test_strings_from_endpoints_are_escaped(
    sqlite_collector: Collector,
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
) -> None:
    token = sqlite_collector.enroll_ok(hostname=SCRIPT, os_user=SCRIPT)["device_token"]
    finding = make_finding("x", title=SCRIPT, user=SCRIPT)
    report = make_report("machine-1", [finding], hostname=SCRIPT, users=(SCRIPT,))
    assert sqlite_collector.post_report(token, report).status_code == 201

    page = _login(sqlite_collector).text

    assert SCRIPT not in page
    assert page.count(ESCAPED) >= 4  # hostname twice, OS user, title, finding user


def test_signing_out_ends_the_session(sqlite_collector: Collector) -> None:
    _login(sqlite_collector)

    response = sqlite_collector.http.post(sqlite_collector.url("/logout"), timeout=10)
    again = sqlite_collector.http.get(sqlite_collector.url("/"), timeout=10)

    assert response.url.endswith("/login")
    assert again.url.endswith("/login")


def test_a_forged_session_cookie_is_refused(sqlite_collector: Collector) -> None:
    sqlite_collector.http.cookies.set("shadowmap_session", "eyJhZG1pbiI6dHJ1ZX0.forged.sig")

    response = sqlite_collector.http.get(sqlite_collector.url("/"), timeout=10)

    assert response.url.endswith("/login")


def test_a_page_error_is_a_page_not_json(sqlite_collector: Collector) -> None:
    response = sqlite_collector.http.get(sqlite_collector.url("/no-such-page"), timeout=10)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not Found" in response.text


def test_pages_forbid_scripts_and_framing(sqlite_collector: Collector) -> None:
    response = sqlite_collector.http.get(sqlite_collector.url("/login"), timeout=10)
    css = sqlite_collector.http.get(sqlite_collector.url("/static/style.css"), timeout=10)

    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
