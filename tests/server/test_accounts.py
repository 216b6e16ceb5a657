"""Local accounts, roles, CSRF-protected forms and API tokens, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from tests.server.pages_helpers import (
    PASSWORD,
    admin_api,
    csrf_of,
    new_account,
    new_token,
    sign_in,
    sign_in_with_token,
)

if TYPE_CHECKING:
    from tests.server.conftest import Collector


def test_an_account_signs_in_with_its_password(collector: Collector, table_rows: Callable) -> None:
    new_account(collector, "ana", "viewer")

    wrong = sign_in(collector, "ana", "not-the-password-1")
    right = sign_in(collector, "ana")

    assert wrong.status_code == 401
    assert right.url.endswith("/") and "ana · viewer" in right.text


def test_passwords_are_kept_as_argon2id_hashes_only(
    sqlite_collector: Collector, sqlite_url: str
) -> None:
    from sqlalchemy import create_engine, text

    new_account(sqlite_collector, "ana", "viewer")
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        (stored,) = connection.execute(text("SELECT password_hash FROM user_accounts")).one()
    engine.dispose()

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_weak_password_or_bad_name_is_refused(sqlite_collector: Collector) -> None:
    short = admin_api(
        sqlite_collector,
        "POST",
        "/api/v1/accounts",
        json={"username": "ana", "password": "short", "role": "viewer"},
    )
    placeholder = admin_api(
        sqlite_collector,
        "POST",
        "/api/v1/accounts",
        json={"username": "ana", "password": "changeme-changeme", "role": "viewer"},
    )
    bad_name = admin_api(
        sqlite_collector,
        "POST",
        "/api/v1/accounts",
        json={"username": "-x<script>", "password": PASSWORD, "role": "viewer"},
    )
    new_account(sqlite_collector, "ana", "viewer")
    taken = admin_api(
        sqlite_collector,
        "POST",
        "/api/v1/accounts",
        json={"username": "ana", "password": PASSWORD, "role": "admin"},
    )

    assert [r.status_code for r in (short, placeholder, bad_name, taken)] == [422, 422, 422, 409]
    assert taken.json()["error"] == "conflict"
    assert PASSWORD not in taken.text


def test_a_viewer_reads_but_may_not_administer(sqlite_collector: Collector) -> None:
    new_account(sqlite_collector, "vic", "viewer")
    sign_in(sqlite_collector, "vic")
    http = sqlite_collector.http

    pages = [
        http.get(sqlite_collector.url(p), timeout=10).status_code
        for p in ("/", "/vendors", "/people")
    ]
    admin_page = http.get(sqlite_collector.url("/admin"), timeout=10)
    forged = http.post(
        sqlite_collector.url("/vendors/openai/decision"),
        data={"sanctioned": "yes", "csrf": "x"},
        timeout=10,
    )

    assert pages == [200, 200, 200]
    assert admin_page.status_code == 403 and "only an admin" in admin_page.text
    assert forged.status_code == 403


def test_forms_need_their_csrf_token_and_a_refused_form_changes_nothing(
    sqlite_collector: Collector, sqlite_url: str, table_rows: Callable
) -> None:
    sign_in_with_token(sqlite_collector)
    http = sqlite_collector.http
    form = {"username": "eve", "password": PASSWORD, "role": "admin"}

    missing = http.post(sqlite_collector.url("/admin/accounts"), data=form, timeout=10)
    wrong = http.post(
        sqlite_collector.url("/admin/accounts"), data={**form, "csrf": "nope"}, timeout=10
    )
    other_site = http.post(
        sqlite_collector.url("/admin/accounts"),
        data={**form, "csrf": csrf_of(sqlite_collector)},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    accounts = admin_api(sqlite_collector, "GET", "/api/v1/accounts").json()
    made = http.post(
        sqlite_collector.url("/admin/accounts"),
        data={**form, "csrf": csrf_of(sqlite_collector)},
        timeout=10,
    )

    assert [r.status_code for r in (missing, wrong, other_site)] == [403, 403, 403]
    assert "csrf" not in missing.text.lower() or "reload the page" in missing.text
    assert accounts == []
    assert made.status_code == 200 and "eve" in made.text


def test_the_admin_page_makes_an_account_and_a_token_shown_once(
    sqlite_collector: Collector,
) -> None:
    sign_in_with_token(sqlite_collector)
    http = sqlite_collector.http

    made = http.post(
        sqlite_collector.url("/admin/tokens"),
        data={"name": "ci", "role": "uploader", "csrf": csrf_of(sqlite_collector)},
        timeout=10,
    )
    token = made.text.split('<code class="token">')[1].split("</code>")[0]
    again = http.get(sqlite_collector.url("/admin"), timeout=10).text

    assert made.status_code == 201 and token.startswith("smt_")
    assert token not in again and "ci" in again


def test_api_tokens_have_roles_and_can_be_revoked(sqlite_collector: Collector) -> None:
    viewer = new_token(sqlite_collector, "viewer")
    uploader = new_token(sqlite_collector, "uploader", "ci")

    def get(token: str, path: str = "/api/v1/vendors") -> requests.Response:
        return requests.get(
            sqlite_collector.url(path), headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    read = get(viewer)
    upload_reads = get(uploader)
    may_not_admin = get(viewer, "/api/v1/tokens")
    tokens = admin_api(sqlite_collector, "GET", "/api/v1/tokens").json()
    revoked = admin_api(sqlite_collector, "DELETE", f"/api/v1/tokens/{tokens[-1]['id']}")
    after = get(viewer)

    assert read.status_code == 200
    assert upload_reads.status_code == 403 and upload_reads.json()["error"] == "forbidden"
    assert may_not_admin.status_code == 403
    assert revoked.status_code == 200
    assert after.status_code == 401 and after.json()["error"] == "admin_token_invalid"
    assert all(viewer not in str(t) and uploader not in str(t) for t in tokens)


def test_a_disabled_account_loses_its_session(sqlite_collector: Collector) -> None:
    new_account(sqlite_collector, "dan", "viewer")
    sign_in(sqlite_collector, "dan")
    (account,) = admin_api(sqlite_collector, "GET", "/api/v1/accounts").json()

    admin = requests.Session()
    admin.post(
        sqlite_collector.url("/login"), data={"token": sqlite_collector.admin_token}, timeout=10
    )
    csrf = (
        admin.get(sqlite_collector.url("/admin"), timeout=10)
        .text.split('name="csrf" value="')[1]
        .split('"')[0]
    )
    admin.post(
        sqlite_collector.url(f"/admin/accounts/{account['id']}"),
        data={"action": "disable", "csrf": csrf},
        timeout=10,
    )
    page = sqlite_collector.http.get(sqlite_collector.url("/"), timeout=10)

    assert page.url.endswith("/login")


def test_sign_in_and_out_from_another_site_are_refused(sqlite_collector: Collector) -> None:
    evil = {"Origin": "https://evil.example"}
    url = sqlite_collector.url

    login = sqlite_collector.http.post(
        url("/login"), data={"token": sqlite_collector.admin_token}, headers=evil, timeout=10
    )
    sign_in_with_token(sqlite_collector)
    logout = sqlite_collector.http.post(url("/logout"), headers=evil, timeout=10)
    still_in = sqlite_collector.http.get(url("/"), timeout=10)

    assert login.status_code == 403 and "shadowmap_session" not in login.headers.get(
        "set-cookie", ""
    )
    assert logout.status_code == 403
    assert still_in.url.endswith("/") and still_in.status_code == 200
