"""The IdP connectors: every sample export imports, the joins and groupings are right, a bad
file is refused; and live sweeps against a loopback replay server (127.0.0.1, real
sockets) that serves the documented responses page by page, with a 429 + Retry-After."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shadowmap.server.idp import connector_for
from shadowmap.server.idp.http import LiveClient, load_credential, retry_after
from shadowmap.server.idp.interface import (
    ConsentType,
    GrantBatch,
    GrantStatus,
    IdentityStatus,
    IdpError,
    IdpFileInvalid,
    Provider,
)
from tests.server.idp_helpers import (
    ENTRA_FILES,
    GOOGLE_FILES,
    OKTA_FILES,
    Reply,
    asset,
    entra_replay,
    google_replay,
    okta_replay,
    replay,
)

# A made-up credential: long enough to look real, recognisable in any log or message.
CREDENTIAL = "idp-" + "cred-" + "Zq81Lm0Xv4Rt7Pw2"


def read(provider: Provider, *names: str) -> GrantBatch:
    return connector_for(provider).read_files([asset(n) for n in names])


def by_app(batch: GrantBatch) -> dict[tuple[str | None, str], object]:
    names = {a.client_id: a.display_name for a in batch.apps}
    return {(g.user_id, names[g.client_id]): g for g in batch.grants}


# -- export files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "names", "grants", "identities"),
    [
        (Provider.GOOGLE, GOOGLE_FILES[:1], 11, 4),
        (Provider.GOOGLE, GOOGLE_FILES, 12, 4),  # + carol's revoked Otter, known from events
        (Provider.GOOGLE, ("gam-print-tokens.csv",), 11, 4),
        (Provider.ENTRA, ENTRA_FILES[:2], 8, 4),
        (Provider.ENTRA, ENTRA_FILES, 8, 4),
        (Provider.ENTRA, ("entra-permissions.csv",), 9, 4),  # + Fireflies' app-only permission
        (Provider.OKTA, OKTA_FILES[:2], 3, 3),
        (Provider.OKTA, OKTA_FILES, 3, 4),
    ],
)
def test_every_sample_imports(
    provider: Provider, names: tuple[str, ...], grants: int, identities: int
) -> None:
    batch = read(provider, *names)

    assert len(batch.grants) == grants
    assert len(batch.identities) == identities
    assert all(g.scopes for g in batch.grants)
    assert not batch.skipped


def test_google_tokens_and_events_give_dates_use_and_revocation() -> None:
    grants = by_app(read(Provider.GOOGLE, *GOOGLE_FILES))

    mcp = grants[("103000000000000000004", "mcp-gmail-server")]
    otter = grants[("103000000000000000003", "Otter.ai")]
    chatgpt = grants[("103000000000000000001", "ChatGPT")]
    assert mcp.scopes == ("https://mail.google.com/",)
    assert mcp.granted_at.isoformat().startswith("2025-06-19")
    assert mcp.last_used_at.isoformat().startswith("2025-06-20")
    assert (otter.status, otter.revoked_at.isoformat()[:10]) == (GrantStatus.REVOKED, "2025-06-02")
    assert chatgpt.status is GrantStatus.ACTIVE
    assert chatgpt.granted_at.isoformat().startswith("2025-05-12")


def test_domain_wide_delegation_comes_from_the_admin_audit_log() -> None:
    batch = read(Provider.GOOGLE, GOOGLE_FILES[0], "google-reports-admin-delegation.json")

    delegated = {g.client_id: g for g in batch.grants if g.consent is ConsentType.APPLICATION}
    live, removed = delegated["112233445566778899001"], delegated["998877665544332211000"]
    assert live.user_id is None and live.status is GrantStatus.ACTIVE
    assert "https://www.googleapis.com/auth/drive.readonly" in live.scopes
    assert live.granted_at.isoformat().startswith("2025-04-01")
    assert (removed.status, removed.revoked_at.isoformat()[:10]) == (
        GrantStatus.REVOKED,
        "2025-06-01",
    )
    assert len(batch.grants) == 13


def test_gam_aggregated_by_app_gives_each_user_a_grant(tmp_path: Path) -> None:
    export = tmp_path / "tokens.csv"
    export.write_text(
        "clientId,displayText,anonymous,nativeApp,users,scopes\n"
        "9-x.apps.googleusercontent.com,Claude,False,False,"
        "alice@example.com bob@example.com,openid https://www.googleapis.com/auth/drive\n"
    )

    batch = connector_for(Provider.GOOGLE).read_files([export])

    assert sorted(g.user_id for g in batch.grants) == ["alice@example.com", "bob@example.com"]
    assert all(g.scopes[-1].endswith("/drive") for g in batch.grants)


def test_gam_csv_matches_the_directory_api() -> None:
    api = read(Provider.GOOGLE, GOOGLE_FILES[0])
    gam = read(Provider.GOOGLE, "gam-print-tokens.csv")

    assert {(g.user_id, g.client_id, g.scopes) for g in gam.grants} == {
        (g.user_id, g.client_id, g.scopes) for g in api.grants
    }
    chrome = next(a for a in gam.apps if a.display_name == "Google Chrome")
    assert chrome.first_party and chrome.native


def test_entra_joins_grants_to_service_principals_by_object_id() -> None:
    batch = read(Provider.ENTRA, *ENTRA_FILES)
    grants = by_app(batch)

    chatgpt = grants[("a11ce000-0000-4000-8000-000000000001", "ChatGPT")]
    fireflies = grants[(None, "Fireflies.ai")]
    claude = grants[("b0b00000-0000-4000-8000-000000000002", "Claude")]
    lookalike = next(a for a in batch.apps if a.display_name == "ChatGPT Assistant for Outlook")
    dave = next(i for i in batch.identities if i.external_id.startswith("da7e"))
    assert chatgpt.client_id == "e0000001-0000-4000-8000-0000000000c1"  # the appId, not the SP id
    assert chatgpt.resource == "00000003-0000-0000-c000-000000000000"  # Microsoft Graph
    assert fireflies.consent is ConsentType.ADMIN and fireflies.user_id is None
    assert claude.scopes[0] == "openid"  # the leading space of the sample is gone
    assert (lookalike.publisher, lookalike.verified_publisher) == ("gpt-tools-dev", None)
    assert (dave.email, dave.status) == ("dave@example.com", IdentityStatus.SUSPENDED)


def test_the_permissions_csv_groups_one_row_per_scope() -> None:
    csv_batch = read(Provider.ENTRA, "entra-permissions.csv")
    graph_batch = read(Provider.ENTRA, *ENTRA_FILES)

    app_only = [g for g in csv_batch.grants if g.consent is ConsentType.APPLICATION]
    delegated = {(g.user_id, g.client_id, g.scopes) for g in csv_batch.grants} - {
        (g.user_id, g.client_id, g.scopes) for g in app_only
    }
    assert delegated == {(g.user_id, g.client_id, g.scopes) for g in graph_batch.grants}
    assert [(g.client_id[-2:], g.scopes) for g in app_only] == [("c4", ("Calendars.Read",))]


def test_okta_groups_scope_grants_by_user_and_client() -> None:
    batch = read(Provider.OKTA, *OKTA_FILES)
    grants = by_app(batch)

    alice = grants[("00ua11ce0000EXMPL0h7", "ChatGPT Enterprise")]
    apps = {a.display_name: a for a in batch.apps}
    assert alice.scopes == ("openid", "profile", "email", "offline_access")
    assert alice.granted_at.isoformat().startswith("2025-02-12")
    assert apps["Claude for Work"].sso_status == "ACTIVE"
    assert apps["Perplexity Enterprise Pro"].sso_status == "INACTIVE"
    assert apps["ChatGPT Enterprise"].sso_note == "Sanctioned. Ticket SEC-1042"


@pytest.mark.parametrize(
    ("provider", "content", "said"),
    [
        (Provider.GOOGLE, "a,b\n1,2\n", "not GAM"),
        (Provider.GOOGLE, "{not json", "not valid JSON"),
        (Provider.ENTRA, '{"value": [{"foo": 1}]}', "not oauth2PermissionGrants"),
        (Provider.ENTRA, "x,y\n1,2\n", "not a Get-AzureADPSPermissions"),
        (Provider.OKTA, '[{"foo": 1}]', "not an Okta"),
        (Provider.OKTA, "", "holds no rows"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(
    tmp_path: Path, provider: Provider, content: str, said: str
) -> None:
    bad = tmp_path / "export"
    bad.write_text(content, encoding="utf-8")

    with pytest.raises(IdpFileInvalid) as refused:
        connector_for(provider).read_files([bad])

    assert said in refused.value.message
    assert refused.value.exit_code == 2


# -- live sweeps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "serve", "files"),
    [
        (Provider.GOOGLE, google_replay, GOOGLE_FILES),
        (Provider.ENTRA, entra_replay, ENTRA_FILES),
        (Provider.OKTA, okta_replay, OKTA_FILES),
    ],
)
def test_a_live_sweep_reads_every_page_waits_when_told_and_equals_the_export(
    provider: Provider, serve, files: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """Loopback replay server: every page in order, one 429 with Retry-After: 2."""
    waits: list[float] = []
    caplog.set_level(logging.DEBUG)
    with replay() as server:
        serve(server)
        client = LiveClient(provider, server.url, CREDENTIAL, sleep=waits.append)
        live = connector_for(provider).sweep(client)
        seen = list(server.seen)
        left = {path: queue for path, queue in server.queues.items() if queue}

    exported = read(provider, *files)
    assert waits == [2.0]
    assert not left, f"pages never asked for: {sorted(left)}"
    assert {(g.user_id, g.client_id, g.scopes, g.status) for g in live.grants} == {
        (g.user_id, g.client_id, g.scopes, g.status) for g in exported.grants
    }
    scheme = "SSWS" if provider is Provider.OKTA else "Bearer"
    assert all(s.headers.get("Authorization") == f"{scheme} {CREDENTIAL}" for s in seen)
    assert CREDENTIAL not in caplog.text
    assert CREDENTIAL not in repr(client)


def test_a_refused_credential_is_an_error_that_never_shows_it() -> None:
    with replay() as server:
        server.add(
            "/oauth2PermissionGrants", Reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
        )
        client = LiveClient(Provider.ENTRA, server.url, CREDENTIAL, sleep=lambda _s: None)
        with pytest.raises(IdpError) as refused:
            connector_for(Provider.ENTRA).sweep(client)

    assert "refused the credential (HTTP 401)" in refused.value.message
    assert CREDENTIAL not in refused.value.message + (refused.value.hint or "")


def test_endless_rate_limits_give_up_with_a_next_step() -> None:
    with replay() as server:
        server.add("/api/v1/users", *[Reply(429, {}, {"Retry-After": "1"})] * 10)
        client = LiveClient(Provider.OKTA, server.url, CREDENTIAL, sleep=lambda _s: None)
        with pytest.raises(IdpError) as refused:
            connector_for(Provider.OKTA).sweep(client)

    assert "rate limits" in refused.value.message
    assert "later" in (refused.value.hint or "")


def test_google_403_rate_limit_reasons_back_off() -> None:
    waits: list[float] = []
    with replay() as server:
        limited = Reply(403, {"error": {"errors": [{"reason": "userRateLimitExceeded"}]}})
        server.add("/admin/directory/v1/users", limited, limited, Reply(body={"users": []}))
        server.add(
            "/admin/reports/v1/activity/users/all/applications/token", Reply(body={"items": []})
        )
        admin = "/admin/reports/v1/activity/users/all/applications/admin"
        server.add(admin, Reply(body={"items": []}), Reply(body={"items": []}))
        client = LiveClient(Provider.GOOGLE, server.url, CREDENTIAL, sleep=waits.append)
        connector_for(Provider.GOOGLE).sweep(client)

    assert waits == [1.0, 2.0]


# Pages whose next link leads back to a page already read, for each way of paging.
LOOPS = {
    Provider.ENTRA: (
        "/oauth2PermissionGrants",
        Reply(body={"value": [], "@odata.nextLink": "{base}/oauth2PermissionGrants"}),
    ),
    Provider.OKTA: (
        "/api/v1/users",
        Reply(body=[], headers={"Link": '<{base}/api/v1/users>; rel="next"'}),
    ),
    Provider.GOOGLE: ("/admin/directory/v1/users", Reply(body={"nextPageToken": "same"})),
}


@pytest.mark.parametrize("provider", list(LOOPS), ids=[p.value for p in LOOPS])
def test_a_next_page_link_that_loops_stops_the_sweep(provider: Provider) -> None:
    path, looping = LOOPS[provider]
    with replay() as server:
        server.add(path, *[looping] * 50)
        client = LiveClient(provider, server.url, CREDENTIAL, sleep=lambda _s: None)
        with pytest.raises(IdpError) as stopped:
            connector_for(provider).sweep(client)
        asked = len(server.seen)

    assert "is one it sent before" in stopped.value.message
    assert asked == 2  # the first page, and its link once: never the same page again


def test_a_next_page_link_to_another_host_is_not_followed_with_the_credential() -> None:
    with replay() as server:
        elsewhere = server.url.replace("127.0.0.1", "localhost") + "/oauth2PermissionGrants/2"
        server.add(
            "/oauth2PermissionGrants", Reply(body={"value": [], "@odata.nextLink": elsewhere})
        )
        server.add("/oauth2PermissionGrants/2", Reply(body={"value": []}))
        client = LiveClient(Provider.ENTRA, server.url, CREDENTIAL, sleep=lambda _s: None)
        with pytest.raises(IdpError) as refused:
            connector_for(Provider.ENTRA).sweep(client)
        seen = list(server.seen)

    assert "next-page link to another host (localhost)" in refused.value.message
    assert [s.path for s in seen] == ["/oauth2PermissionGrants"]
    assert CREDENTIAL not in refused.value.message + (refused.value.hint or "")


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("7", 7.0),
        (None, 3.0),
        ("soon", 3.0),
        ("9999", 120.0),
        ("1" + "0" * 9, 120.0),  # a billion seconds: capped
        ("\u00b2", 3.0),  # superscript two: a digit to str.isdigit, not to float()
        ("-5", 3.0),
    ],
)
def test_retry_after_is_read_and_capped(header: str | None, wait: float) -> None:
    assert retry_after(header, 3.0) == wait


def test_the_credential_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text(CREDENTIAL + "\n", encoding="utf-8")

    from_file = load_credential(Provider.OKTA, secret_file, {})
    from_env = load_credential(Provider.OKTA, None, {"SHADOWMAP_OKTA_TOKEN": CREDENTIAL})
    with pytest.raises(IdpError) as missing:
        load_credential(Provider.OKTA, None, {})

    assert from_file == from_env == CREDENTIAL
    assert "SHADOWMAP_OKTA_TOKEN" in (missing.value.hint or "")
