"""The security team's pages and exports over real HTTP: every page renders, every list
exports as CSV and JSON, filters and search work, and script-laden names from endpoints
and IdPs are escaped on every page."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from shadowmap.agent.models import Finding, Report, RepositoryInfo, SourceId
from shadowmap.server.grant_import import ImportRequest, run_import
from shadowmap.server.idp.interface import Provider
from tests.server.idp_helpers import asset, sample
from tests.server.pages_helpers import admin_api, csrf_of, new_token, sign_in_with_token
from tests.server.test_correlation import import_all

if TYPE_CHECKING:
    from tests.server.conftest import Collector

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
LISTS = (
    "vendors",
    "people",
    "devices",
    "findings",
    "grants",
    "conclusions",
    "keys",
    "repositories",
)


def hostile_exports(folder: Path) -> dict[Provider, tuple[Path, ...]]:
    """The samples with names, publishers, notes and emails replaced by a script."""
    tokens = sample("google-tokens-list.json")
    tokens[f"{SCRIPT}@example.com"] = {
        "kind": "admin#directory#tokenList",
        "items": [
            {
                "clientId": "9-evil.apps.googleusercontent.com",
                "displayText": SCRIPT,
                "userKey": "1099",
                "scopes": ["https://mail.google.com/"],
                "nativeApp": True,
                "anonymous": False,
            }
        ],
    }
    sps = sample("graph-servicePrincipals.json")
    for sp in sps["value"]:
        if sp["displayName"] == "ChatGPT Assistant for Outlook":
            sp["displayName"] = f"ChatGPT {SCRIPT}"
            sp["publisherName"] = SCRIPT
    apps = sample("okta-apps.json")
    apps[1]["settings"]["notes"]["admin"] = SCRIPT
    files = {"tokens.json": tokens, "sps.json": sps, "apps.json": apps}
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return {
        Provider.GOOGLE: (folder / "tokens.json",),
        Provider.ENTRA: (asset("graph-oauth2PermissionGrants.json"), folder / "sps.json"),
        Provider.OKTA: (
            asset("okta-user-grants.json"),
            folder / "apps.json",
            asset("okta-users.json"),
        ),
    }


def repo_report(
    findings: list[Finding], remote: str = "https://git.example/sales-agent.git"
) -> Report:
    return Report(
        report_id=uuid.uuid4().hex,
        created_at="2024-06-01T12:00:00Z",
        scanner={"version": "0.1.0", "signatures_version": "x"},
        host={"machine_id": "ci-runner", "hostname": "ci", "os": "linux"},
        repository=RepositoryInfo(
            path="/builds/sales-agent", remote=remote, branch="main", head="abc"
        ),
        users=[],
        sources=[SourceId.REPO],
        fingerprint_scope="org:test",
        findings=findings,
    )


@pytest.fixture
def stocked(
    collector: Collector,
    tmp_path: Path,
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
    make_secret_finding: Callable[..., Finding],
) -> Collector:
    """A collector with the samples imported, two devices reporting, one repository."""
    import_all(_db_of(collector))
    bob = collector.enroll_ok(
        "m-bob", hostname="bob-laptop", os_user="bob", email="bob@example.com"
    )
    collector.post_report(
        bob["device_token"],
        make_report(
            "m-bob",
            [make_finding("outlook"), make_secret_finding(".env")],
            hostname="bob-laptop",
            users=("bob",),
        ),
    )
    carol = collector.enroll_ok("m-carol", hostname="carol-mbp", os_user="carol", email=None)
    collector.post_report(
        carol["device_token"],
        make_report(
            "m-carol",
            [make_secret_finding("notes.txt", user="carol")],
            hostname="carol-mbp",
            users=("carol",),
        ),
    )
    uploader = new_token(collector, "uploader")
    secret = make_secret_finding("agent/.env", user=None).model_copy(
        update={"source": SourceId.REPO}
    )
    posted = requests.post(
        collector.url("/api/v1/repo-reports"),
        data=repo_report([secret]).model_dump_json(),
        headers={"Authorization": f"Bearer {uploader}"},
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    return collector


def _db_of(collector: Collector) -> str:
    url: str = collector.db_url  # type: ignore[attr-defined]
    return url


@pytest.fixture(autouse=True)
def _remember_db(request: pytest.FixtureRequest) -> None:
    """Lets a test reach the database of the collector it was given (for imports)."""
    for name, url_name in (("collector", "db_url"), ("sqlite_collector", "sqlite_url")):
        if name in request.fixturenames:
            request.getfixturevalue(name).db_url = request.getfixturevalue(url_name)


def links(page: str, prefix: str) -> list[str]:
    return sorted(set(re.findall(rf'href="({re.escape(prefix)}[^"?#]+)"', page)))


TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def every_page(collector: Collector) -> dict[str, requests.Response]:
    http = collector.http
    get = lambda path: http.get(collector.url(path), timeout=20)  # noqa: E731
    found = {
        path: get(path)
        for path in (
            "/",
            "/vendors",
            "/people",
            "/devices",
            "/findings?status=all",
            "/grants?status=all",
            "/conclusions",
            "/chart",
            "/chart.svg",
            "/search?q=a",
            "/admin",
        )
    }
    for lister, prefix in (
        ("/vendors", "/vendors/"),
        ("/people", "/people/"),
        ("/devices", "/devices/"),
        ("/devices", "/repositories/"),
    ):
        for path in links(found[lister].text, prefix):
            found[path] = get(path)
    return found


def test_every_page_renders(stocked: Collector) -> None:
    sign_in_with_token(stocked)

    pages = every_page(stocked)

    failed = {path: r.status_code for path, r in pages.items() if r.status_code != 200}
    assert not failed
    # A template that reads a dict's "keys" or "items" as an attribute shows a method instead.
    assert not [path for path, r in pages.items() if "built-in method" in r.text]
    # A title is plain text: once /admin's held its forms, and with them the CSRF token.
    titles = {p: TITLE.search(r.text) for p, r in pages.items() if p != "/chart.svg"}
    assert not [p for p, t in titles.items() if t is None or "<" in t.group(1)]
    kinds = {p.split("/")[1] for p in pages if p.count("/") == 2}
    assert kinds == {"vendors", "people", "devices", "repositories"}
    assert pages["/chart.svg"].headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in pages["/chart"].text and "<script" not in pages["/chart"].text


def test_the_vendor_page_shows_trust_graph_and_conclusions(stocked: Collector) -> None:
    sign_in_with_token(stocked)

    openai = stocked.http.get(stocked.url("/vendors/openai"), timeout=10).text
    anthropic = stocked.http.get(stocked.url("/vendors/anthropic"), timeout=10).text

    assert "Coverage 90%" in openai and "D1 · Training on business data" in openai
    assert "Lookalike of OpenAI" in openai
    assert "ChatGPT Enterprise" in openai and "sanctioned" in openai
    assert "bob-laptop" in anthropic and "MCP server outlook" in anthropic
    assert "needs review" in anthropic


def test_the_person_page_shows_why_a_device_is_theirs(stocked: Collector) -> None:
    sign_in_with_token(stocked)
    people = stocked.http.get(stocked.url("/people"), timeout=10).text
    pages = {
        p: stocked.http.get(stocked.url(p), timeout=10).text for p in links(people, "/people/")
    }

    bob = next(text for text in pages.values() if "<h1>bob@example.com</h1>" in text)
    carol = next(text for text in pages.values() if "<h1>carol@example.com</h1>" in text)
    assert "bob-laptop" in bob and "<code>email</code>" in bob
    assert "carol-mbp" in carol and "<code>os_user</code>" in carol
    assert "revoked in google, live in entra" in carol


@pytest.mark.parametrize("name", LISTS)
def test_every_list_exports_as_csv_and_json(stocked: Collector, name: str) -> None:
    sign_in_with_token(stocked)

    as_json = stocked.http.get(stocked.url(f"/export/{name}.json"), timeout=20)
    as_csv = stocked.http.get(stocked.url(f"/export/{name}.csv"), timeout=20)
    api = admin_api(stocked, "GET", f"/api/v1/{name}", params={"format": "csv"})

    rows = as_json.json()
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    from_api = list(csv.DictReader(io.StringIO(api.text)))
    assert as_json.status_code == as_csv.status_code == api.status_code == 200
    assert rows and len(rows) == len(table)
    # /api/v1/findings keeps its v1 contract: open findings of devices (the export adds repos).
    expected = [r for r in rows if r["place_kind"] == "device"] if name == "findings" else rows
    assert len(from_api) == len(expected)
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_csv.headers["content-type"].startswith("text/csv")


def test_exports_keep_the_filters_of_the_page(stocked: Collector) -> None:
    sign_in_with_token(stocked)

    everything = stocked.http.get(stocked.url("/export/grants.json"), timeout=10).json()
    entra = stocked.http.get(
        stocked.url("/export/grants.json?provider=entra&q=claude"), timeout=10
    ).json()

    assert len(everything) == 23
    assert [(g["provider"], g["app"]) for g in entra] == [("entra", "Claude")]


def test_an_export_filter_named_like_a_parameter_is_only_a_filter(stocked: Collector) -> None:
    """Every query parameter of /export is a column filter; "rows" once collided with
    page_data.filtered's own argument and made a 500."""
    sign_in_with_token(stocked)

    answers = [
        stocked.http.get(stocked.url(f"/export/grants.csv?{name}=x"), timeout=10)
        for name in ("rows", "row", "equals")
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.text.strip() == "empty" for a in answers)  # no grant has such a column


def test_filters_and_search_narrow_the_lists(stocked: Collector) -> None:
    sign_in_with_token(stocked)
    get = lambda path: stocked.http.get(stocked.url(path), timeout=10).text  # noqa: E731

    secrets_only = get("/findings?kind=secret")
    revoked = get("/grants?status=revoked")
    found = get("/search?q=otter")

    assert "OpenAI key in .env" in secrets_only and "MCP server outlook" not in secrets_only
    assert "2 of 23 grants" not in revoked and "Otter.ai" in revoked and "ChatGPT" not in revoked
    assert 'href="/vendors/otter-ai"' in found and "Grants" in found


def test_a_csv_cell_that_starts_a_formula_is_defused(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    tokens = {
        "x@example.com": {
            "kind": "admin#directory#tokenList",
            "items": [
                {
                    "clientId": "1-f.apps.googleusercontent.com",
                    "displayText": '=HYPERLINK("http://x")',
                    "userKey": "7",
                    "scopes": ["openid"],
                }
            ],
        }
    }
    export = tmp_path / "tokens.json"
    export.write_text(json.dumps(tokens))
    run_import(ImportRequest(sqlite_collector.db_url, Provider.GOOGLE, files=(export,)), {})  # type: ignore[attr-defined]
    sign_in_with_token(sqlite_collector)

    text = sqlite_collector.http.get(sqlite_collector.url("/export/grants.csv"), timeout=10).text

    assert "'=HYPERLINK" in text


def test_unknown_items_are_404_pages_and_json(stocked: Collector) -> None:
    sign_in_with_token(stocked)

    pages = [
        stocked.http.get(stocked.url(p), timeout=10)
        for p in ("/vendors/nope", "/people/999", "/devices/nope")
    ]
    api = admin_api(stocked, "GET", "/api/v1/vendors/nope")
    export = stocked.http.get(stocked.url("/export/secrets.csv"), timeout=10)

    assert [p.status_code for p in pages] == [404, 404, 404]
    assert all(p.headers["content-type"].startswith("text/html") for p in pages)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert export.status_code == 404


def test_an_admin_decides_about_a_vendor_and_bad_decisions_change_nothing(
    stocked: Collector,
) -> None:
    bad = [
        admin_api(stocked, "PUT", "/api/v1/vendors/otter-ai", json={"trust_override": 101}),
        admin_api(stocked, "PUT", "/api/v1/vendors/otter-ai", json={"trust_override": 80}),
        admin_api(stocked, "PUT", "/api/v1/vendors/not-a-vendor", json={"sanctioned": True}),
    ]
    unchanged = admin_api(stocked, "GET", "/api/v1/vendors/otter-ai").json()
    sign_in_with_token(stocked)
    form = {
        "sanctioned": "yes",
        "allowed_scopes": "offline_access",
        "note": "DPA signed",
        "trust_override": "85",
        "override_reason": "SOC 2 report reviewed",
        "csrf": csrf_of(stocked, "/vendors/otter-ai"),
    }
    saved = stocked.http.post(stocked.url("/vendors/otter-ai/decision"), data=form, timeout=10)
    after = admin_api(stocked, "GET", "/api/v1/vendors/otter-ai").json()

    assert [r.status_code for r in bad] == [422, 422, 404]
    assert unchanged["sanctioned"] is False
    assert saved.status_code == 200 and "sanctioned by (admin token): DPA signed" in saved.text
    assert (after["sanctioned"], after["trust"], after["trust_detail"]["override_reason"]) == (
        True,
        85,
        "SOC 2 report reviewed",
    )
    assert any(c["kind"] == "risky_scopes" for c in after["conclusions"])


def test_the_openapi_document_lists_the_new_endpoints(sqlite_collector: Collector) -> None:
    spec = requests.get(sqlite_collector.url("/api/v1/openapi.json"), timeout=10).json()

    paths = set(spec["paths"])
    assert {
        "/api/v1/vendors",
        "/api/v1/vendors/{key}",
        "/api/v1/people",
        "/api/v1/grants",
        "/api/v1/conclusions",
        "/api/v1/keys",
        "/api/v1/inventory",
        "/api/v1/repo-reports",
        "/api/v1/repositories",
        "/api/v1/tokens",
        "/api/v1/accounts",
        "/api/v1/chart.svg",
    } <= paths
    assert not any(p.startswith(("/vendors", "/admin", "/export")) for p in paths)


def test_script_laden_names_are_escaped_on_every_page(
    collector: Collector,
    db_url: str,
    tmp_path: Path,
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
    make_secret_finding: Callable[..., Finding],
) -> None:
    for provider, files in hostile_exports(tmp_path).items():
        run_import(ImportRequest(db_url, provider, files=files), {})
    token = collector.enroll_ok("m-x", hostname=SCRIPT, os_user=SCRIPT, email="bob@example.com")[
        "device_token"
    ]
    finding = make_finding("x", title=SCRIPT, user=SCRIPT)
    secret = make_secret_finding(SCRIPT, user=SCRIPT)
    assert (
        collector.post_report(
            token, make_report("m-x", [finding, secret], hostname=SCRIPT, users=(SCRIPT,))
        ).status_code
        == 201
    )
    uploader = new_token(collector, "uploader", name=SCRIPT)
    repo = repo_report(
        [
            make_secret_finding("r", user=None).model_copy(
                update={"source": SourceId.REPO, "title": SCRIPT}
            )
        ],
        remote=f"https://git.example/{SCRIPT}",
    )
    requests.post(
        collector.url("/api/v1/repo-reports"),
        data=repo.model_dump_json(),
        headers={"Authorization": f"Bearer {uploader}"},
        timeout=10,
    )
    sign_in_with_token(collector)

    pages = every_page(collector)
    pages["/search?q=script"] = collector.http.get(collector.url("/search?q=script"), timeout=10)

    leaked = [path for path, r in pages.items() if SCRIPT in r.text]
    assert not leaked, f"unescaped on {leaked}"
    showing = {path for path, r in pages.items() if ESCAPED in r.text}
    must_show = {
        "/",
        "/devices",
        "/findings?status=all",
        "/grants?status=all",
        "/chart",
        "/chart.svg",
        "/search?q=script",
        "/admin",
        "/people",
        "/conclusions",
        "/vendors/openai",
    }
    assert must_show <= showing, f"not shown: {must_show - showing}"
    assert any(p.startswith("/devices/") for p in showing)
    assert any(p.startswith("/repositories/") for p in showing)
    assert any(p.startswith("/people/") for p in showing)
