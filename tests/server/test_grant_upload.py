"""``POST /api/v1/grants/import/{provider}``: an admin posts the export files that
``collector import-grants --file`` reads, to a running collector on loopback.

The samples are the ones the CLI tests import (tests/assets/idp); a bad file, a wrong
role or an oversized body is refused with a 4xx and the database is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, OKTA_FILES, asset
from tests.server.pages_helpers import csrf_of, new_token, sign_in_with_token

if TYPE_CHECKING:
    from tests.server.conftest import Collector

SAMPLES = (
    ("google", GOOGLE_FILES),
    ("google", ("gam-print-tokens.csv",)),
    ("entra", ENTRA_FILES),
    ("entra", ("entra-permissions.csv",)),
    ("okta", OKTA_FILES),
)


def upload(
    collector: Collector, provider: str, files: list[tuple[str, bytes]], token: str | None = None
) -> requests.Response:
    parts = [("file", (name, data)) for name, data in files]
    return requests.post(
        collector.url(f"/api/v1/grants/import/{provider}"),
        headers={"Authorization": f"Bearer {token or collector.admin_token}"},
        files=parts,
        timeout=60,
    )


def sample_files(names: tuple[str, ...]) -> list[tuple[str, bytes]]:
    return [(name, asset(name).read_bytes()) for name in names]


def grants(collector: Collector) -> list[dict[str, Any]]:
    response = collector.admin_get("/api/v1/grants")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.mark.parametrize(("provider", "names"), SAMPLES, ids=[s[1][0] for s in SAMPLES])
def test_each_sample_uploads_and_its_grants_are_listed(
    collector: Collector, provider: str, names: tuple[str, ...]
) -> None:
    response = upload(collector, provider, sample_files(names))
    listed = grants(collector)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["provider"] == provider
    assert summary["grants"] > 0 and summary["apps"] > 0
    assert len(listed) == summary["grants"]
    assert {g["provider"] for g in listed} == {provider}


def test_an_upload_stores_what_the_cli_import_stores(
    collector: Collector, shadowmap: Callable[..., Any], tmp_path: Path
) -> None:
    """The same Entra files through the API and through the CLI give the same grants."""
    uploaded = upload(collector, "entra", sample_files(ENTRA_FILES))
    cli = shadowmap(
        "collector",
        "import-grants",
        "--provider=entra",
        f"--db=sqlite:///{tmp_path / 'cli.sqlite'}",
        *(f"--file={asset(n)}" for n in ENTRA_FILES),
    )
    assert uploaded.status_code == 200 and cli.code == 0, cli.stderr
    summary = uploaded.json()

    assert f"{summary['grants']} grants of {summary['identities']} identities" in cli.stdout


def test_a_bad_file_is_refused_and_changes_nothing(collector: Collector) -> None:
    upload(collector, "okta", sample_files(OKTA_FILES))
    before = grants(collector)
    good = sample_files(GOOGLE_FILES)
    broken = ("tokens.json", b'{"kind": "admin#directory#tokenList", "items": [')

    refused = upload(collector, "google", [*good, broken])
    wrong_provider = upload(collector, "entra", good)

    assert refused.status_code == 422
    assert refused.json()["error"] == "import_invalid"
    assert "upload 3 is not valid JSON" in refused.json()["detail"]
    assert "/tmp" not in refused.json()["detail"]
    assert wrong_provider.status_code == 422
    assert grants(collector) == before


def test_only_an_admin_may_upload(sqlite_collector: Collector) -> None:
    viewer = new_token(sqlite_collector, "viewer", "reader")
    uploader = new_token(sqlite_collector, "uploader", "ci")
    files = sample_files(OKTA_FILES)

    as_viewer = upload(sqlite_collector, "okta", files, token=viewer)
    as_uploader = upload(sqlite_collector, "okta", files, token=uploader)
    as_nobody = requests.post(
        sqlite_collector.url("/api/v1/grants/import/okta"),
        files=[("file", (n, d)) for n, d in files],
        timeout=30,
    )

    assert [as_viewer.status_code, as_uploader.status_code] == [403, 403]
    assert as_nobody.status_code == 401
    assert grants(sqlite_collector) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"items": []}', "application/json"),
        (b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nabc", "multipart/form-data"),
        (b"", "multipart/form-data; boundary=x"),
    ],
    ids=["not-multipart", "no-boundary", "no-file"],
)
def test_a_malformed_body_is_a_4xx(
    sqlite_collector: Collector, body: bytes, content_type: str
) -> None:
    response = requests.post(
        sqlite_collector.url("/api/v1/grants/import/google"),
        headers={
            "Authorization": f"Bearer {sqlite_collector.admin_token}",
            "Content-Type": content_type,
        },
        data=body,
        timeout=30,
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] in {"import_invalid", "bad_request"}


def test_an_unknown_provider_is_a_422(sqlite_collector: Collector) -> None:
    response = upload(sqlite_collector, "ldap", sample_files(OKTA_FILES))

    assert response.status_code == 422
    assert response.json()["error"] == "request_invalid"


def test_an_oversized_upload_is_a_413(sqlite_collector: Collector) -> None:
    from shadowmap.server.routes.grants import IMPORT_BODY_LIMIT

    big = b"[" + b" " * IMPORT_BODY_LIMIT + b"]"

    response = upload(sqlite_collector, "okta", [("big.json", big)])

    assert response.status_code == 413
    assert grants(sqlite_collector) == []


def test_the_admin_page_imports_uploaded_files(sqlite_collector: Collector) -> None:
    sign_in_with_token(sqlite_collector)
    http = sqlite_collector.http
    parts = [("file", (n, d)) for n, d in sample_files(OKTA_FILES)]
    url = sqlite_collector.url("/admin/grants/import")

    no_csrf = http.post(url, data={"provider": "okta"}, files=parts, timeout=30)
    done = http.post(
        url, data={"provider": "okta", "csrf": csrf_of(sqlite_collector)}, files=parts, timeout=30
    )
    bad = http.post(
        url,
        data={"provider": "okta", "csrf": csrf_of(sqlite_collector)},
        files=[("file", ("x.json", b"{not json"))],
        timeout=30,
    )

    assert no_csrf.status_code == 403
    assert done.status_code == 200 and "Imported okta:" in done.text
    assert len(grants(sqlite_collector)) > 0
    assert bad.status_code == 422 and "upload 1 is not valid JSON" in bad.text


# Files no IdP writes, each of a kind that once reached the database or a traceback: the
# answer is a 422 that says why, on SQLite and on PostgreSQL (which refuses NUL).
DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE = {
    "deep-json": ("okta", DEEP, "upload 1 is nested too deeply"),
    "5000-digit-number": (
        "google",
        b'{"items": [{"clientId": ' + b"9" * 5000 + b"}]}",
        "upload 1 is nested too deeply or holds too long a number",
    ),
    "nul-in-csv": ("google", b"user,clientId\na@example.com,c\x00id\n", "upload 1 holds NUL"),
    "escaped-nul-in-json": (
        "okta",
        b'[{"id": "u\\u0000", "profile": {"email": "a@example.com"}}]',
        "upload 1 holds a \\u0000 or a lone surrogate",
    ),
    "lone-surrogate": (
        "google",
        b'{"kind": "admin#directory#tokenList", "items": [{"clientId": "\\ud800"}]}',
        "upload 1 holds a \\u0000 or a lone surrogate",
    ),
    "csv-cell-over-the-limit": (
        "entra",
        b"PermissionType,ClientObjectId\n" + b"x" * 200_000 + b",1\n",
        "upload 1 is not CSV an IdP writes: field larger than field limit",
    ),
    "tokens-list-of-numbers": ("google", b"[1, 2, 3]", "a shape the google reader does not know"),
    "okta-grant-links-as-text": (
        "okta",
        b'{"00u1": [{"userId": "00u1", "clientId": "c", "scopeId": "s", "_links": "x"}]}',
        "a shape the okta reader does not know",
    ),
}


@pytest.mark.parametrize(("provider", "data", "says"), HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_file_is_a_422_and_changes_nothing(
    collector: Collector, provider: str, data: bytes, says: str
) -> None:
    upload(collector, "okta", sample_files(OKTA_FILES))
    before = grants(collector)

    response = upload(collector, provider, [("export", data)])

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "import_invalid"
    assert says in response.json()["detail"]
    assert "/tmp" not in response.json()["detail"]
    assert grants(collector) == before


def test_skipped_lines_name_the_part_not_a_temporary_folder(sqlite_collector: Collector) -> None:
    gam = b"user,clientId,displayText,anonymous,nativeApp,userKey,scopes\n,,x,False,False,,openid\n"

    response = upload(sqlite_collector, "google", [("tokens.csv", gam)])

    assert response.status_code == 200, response.text
    assert response.json()["skipped"] == [
        {"where": "upload 1 line 2", "reason": "no clientId or user"}
    ]


def test_the_admin_page_refuses_a_hostile_file_with_a_page(sqlite_collector: Collector) -> None:
    sign_in_with_token(sqlite_collector)

    answer = sqlite_collector.http.post(
        sqlite_collector.url("/admin/grants/import"),
        data={"provider": "okta", "csrf": csrf_of(sqlite_collector)},
        files=[("file", ("deep.json", DEEP))],
        timeout=30,
    )

    assert answer.status_code == 422 and "upload 1 is nested too deeply" in answer.text
    assert grants(sqlite_collector) == []
