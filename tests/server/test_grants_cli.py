"""`shadowmap collector import-grants` and `collector report` as real processes: each
sample imports, a bad file is refused with exit 2 and changes nothing, a live sweep runs
against a loopback replay server (127.0.0.1, real sockets, a 429 included), and the report
prints JSON, CSV and an escaped HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.server.idp_helpers import (
    ENTRA_FILES,
    GOOGLE_FILES,
    OKTA_FILES,
    asset,
    okta_replay,
    replay,
)
from tests.server.test_idp_connectors import CREDENTIAL

IMPORTS = (
    ("google", GOOGLE_FILES),
    ("google", ("gam-print-tokens.csv",)),
    ("entra", ENTRA_FILES),
    ("entra", ("entra-permissions.csv",)),
    ("okta", OKTA_FILES),
)


def import_grants(
    shadowmap: Callable[..., Run], db: str, provider: str, *files: Path, **env: str
) -> Run:
    options = [f"--file={f}" for f in files]
    return shadowmap(
        "collector", "import-grants", "--provider", provider, "--db", db, *options, env=env
    )


@pytest.fixture
def imported(shadowmap: Callable[..., Run], sqlite_url: str) -> str:
    for provider, names in IMPORTS:
        run = import_grants(shadowmap, sqlite_url, provider, *(asset(n) for n in names))
        assert run.code == 0, run.stderr
    return sqlite_url


def test_each_sample_imports_and_says_what_it_read(
    shadowmap: Callable[..., Run], sqlite_url: str
) -> None:
    runs = [
        import_grants(shadowmap, sqlite_url, p, *(asset(n) for n in names)) for p, names in IMPORTS
    ]

    assert [r.code for r in runs] == [0] * len(IMPORTS)
    assert "imported google: 12 grants of 4 identities" in runs[0].stdout
    assert "read: gam print tokens" in runs[1].stdout
    assert "imported entra: 8 grants" in runs[2].stdout
    assert "imported okta: 3 grants of 4 identities" in runs[4].stdout


def test_a_bad_file_exits_2_and_changes_nothing(
    shadowmap: Callable[..., Run], imported: str, tmp_path: Path, table_rows: Callable
) -> None:
    before = _grant_rows(imported)
    bad = tmp_path / "export.json"
    bad.write_text('{"value": [{"foo": 1}]}')

    run = import_grants(shadowmap, imported, "entra", asset(ENTRA_FILES[0]), bad)
    missing = import_grants(shadowmap, imported, "okta", tmp_path / "nope.json")
    neither = shadowmap("collector", "import-grants", "--provider", "okta", "--db", imported)

    assert (run.code, missing.code, neither.code) == (2, 2, 2)
    assert "is not oauth2PermissionGrants" in run.stderr and "next:" in run.stderr
    assert "cannot read" in missing.stderr
    assert "either --file" in neither.stderr
    assert "Traceback" not in run.stderr + missing.stderr + neither.stderr
    assert _grant_rows(imported) == before


def test_a_hostile_file_exits_2_without_a_traceback(
    shadowmap: Callable[..., Run], imported: str, tmp_path: Path
) -> None:
    before = _grant_rows(imported)
    deep, odd = tmp_path / "deep.json", tmp_path / "odd.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    odd.write_text("[1, 2, 3]")  # a list of tokens.list answers, but of numbers

    runs = [import_grants(shadowmap, imported, "okta", deep)]
    runs.append(import_grants(shadowmap, imported, "google", odd))

    assert [r.code for r in runs] == [2, 2], [r.stderr for r in runs]
    assert "nested too deeply" in runs[0].stderr
    assert "shape the google reader does not know" in runs[1].stderr
    assert "Traceback" not in "".join(r.stderr for r in runs)
    assert _grant_rows(imported) == before


def _grant_rows(url: str) -> list[tuple[object, ...]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = sorted(map(tuple, connection.execute(text("SELECT * FROM idp_grants"))))
    engine.dispose()
    return rows


def test_a_live_import_reads_the_api_with_the_credential_from_the_environment(
    shadowmap: Callable[..., Run], sqlite_url: str
) -> None:
    """Loopback replay server on 127.0.0.1: Okta's 2 user pages, 4 grant lists (one after a 429
    with Retry-After: 2, which the process waits out), 2 app pages and the System Log."""
    with replay() as server:
        okta_replay(server)
        run = shadowmap(
            "collector",
            "import-grants",
            "--provider",
            "okta",
            "--live",
            "--base-url",
            server.url,
            "--db",
            sqlite_url,
            env={"SHADOWMAP_OKTA_TOKEN": CREDENTIAL},
        )
        seen = list(server.seen)

    assert run.code == 0, run.stderr
    assert "imported okta: 3 grants of 4 identities" in run.stdout
    assert len(seen) == 10 and all(s.headers["Authorization"] == f"SSWS {CREDENTIAL}" for s in seen)
    assert CREDENTIAL not in run.everything


def test_a_live_import_without_a_credential_or_url_is_refused(
    shadowmap: Callable[..., Run], sqlite_url: str
) -> None:
    no_url = shadowmap(
        "collector", "import-grants", "--provider", "okta", "--live", "--db", sqlite_url
    )
    no_token = shadowmap(
        "collector",
        "import-grants",
        "--provider",
        "entra",
        "--live",
        "--db",
        sqlite_url,
        "--base-url",
        "http://127.0.0.1:9",
    )

    assert no_url.code == 2 and "needs --base-url" in no_url.stderr
    assert no_token.code == 3 and "SHADOWMAP_ENTRA_TOKEN" in no_token.stderr


def test_the_report_prints_json_with_the_conclusions(
    shadowmap: Callable[..., Run], imported: str
) -> None:
    run = shadowmap("collector", "report", "--db", imported, "--format", "json")

    report = json.loads(run.stdout)
    kinds = {c["kind"] for c in report["conclusions"]}
    assert run.code == 0
    assert kinds >= {
        "shadow_ai",
        "risky_scopes",
        "lookalike_app",
        "grant_of_inactive_user",
        "revoked_in_one_idp_live_in_another",
        "tenant_wide_consent",
        "unvetted_app",
    }
    openai = next(v for v in report["vendors"] if v["key"] == "openai")
    assert openai["trust_detail"]["coverage"] == 0.9 and openai["sanctioned"] is True
    assert {g["not_ai"] for g in report["grants"]} >= {"slack", "zoom", "google-first-party"}


def test_the_report_prints_csv_and_html(
    shadowmap: Callable[..., Run], imported: str, tmp_path: Path
) -> None:
    as_csv = shadowmap("collector", "report", "--db", imported, "--format", "csv")
    page = tmp_path / "report.html"
    as_html = shadowmap(
        "collector", "report", "--db", imported, "--format", "html", "--output", str(page)
    )

    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    html = page.read_text()
    assert as_csv.code == as_html.code == 0
    assert {r["record"] for r in rows} == {"grant", "conclusion"}
    assert any(r["vendor"] == "openai" and r["who"] == "alice@example.com" for r in rows)
    assert "<svg" in html and "Lookalike of OpenAI" in html and "<script" not in html
