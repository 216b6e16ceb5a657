"""Grant dates, use and app-only permissions for Entra and Okta: directoryAudits, signIns
and app role assignments, and the Okta System Log, read from files and by live sweeps
against the loopback replay server (127.0.0.1, real sockets, pages one by one, a 429
with Retry-After and a 403 on an audit endpoint that the sweep steps over); then stored
on SQLite and PostgreSQL and shown in the report.

The activity samples are built from the documented response shapes, not captured from a
tenant (tests/assets/idp/README.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from shadowmap.server.grant_import import ImportRequest, run_import
from shadowmap.server.idp import connector_for
from shadowmap.server.idp.http import LiveClient
from shadowmap.server.idp.interface import (
    APP_ONLY,
    EVERYONE,
    ConsentType,
    Grant,
    GrantBatch,
    GrantStatus,
    Provider,
    Skipped,
)
from shadowmap.server.report_output import render_report
from tests.conftest import Run
from tests.server.idp_helpers import (
    ENTRA_ACTIVITY_FILES,
    ENTRA_FILES,
    GOOGLE_FILES,
    OKTA_FILES,
    OKTA_LOG_FILE,
    ReplayServer,
    asset,
    entra_replay,
    okta_replay,
    replay,
    sample,
)
from tests.server.test_idp_connectors import CREDENTIAL

ALICE, BOB, CAROL, DAVE = (
    "a11ce000-0000-4000-8000-000000000001",
    "b0b00000-0000-4000-8000-000000000002",
    "ca701000-0000-4000-8000-000000000003",
    "da7e0000-0000-4000-8000-000000000004",
)
OKTA_ALICE, OKTA_BOB, OKTA_CAROL, OKTA_DAVE = (
    "00ua11ce0000EXMPL0h7",
    "00ub0b000000EXMPL0h7",
    "00uca7o10000EXMPL0h7",
    "00uda7e00000EXMPL0h7",
)
CHATGPT_OKTA = "0oa1chatgpt0EXMPL0h7"
ENTRA_ALL = ENTRA_FILES + ENTRA_ACTIVITY_FILES
OKTA_ALL = (*OKTA_FILES, OKTA_LOG_FILE)


def read(provider: Provider, *names: str) -> GrantBatch:
    return connector_for(provider).read_files([asset(n) for n in names])


def by_app(batch: GrantBatch) -> dict[tuple[str, str], Grant]:
    names = {a.client_id: a.display_name for a in batch.apps}
    return {(g.holder, names[g.client_id]): g for g in batch.grants}


def day(when: datetime | None) -> str | None:
    return when.isoformat()[:10] if when else None


def state(batch: GrantBatch) -> set[tuple[object, ...]]:
    return {
        (g.holder, g.client_id, g.scopes, g.status, g.granted_at, g.last_used_at, g.revoked_at)
        for g in batch.grants
    }


# -- Entra files ---------------------------------------------------------------------------


def test_entra_audits_sign_ins_and_app_roles_give_dates_use_and_app_only_grants() -> None:
    batch = read(Provider.ENTRA, *ENTRA_ALL)
    grants = by_app(batch)

    chatgpt, claude = grants[(ALICE, "ChatGPT")], grants[(BOB, "Claude")]
    fireflies = grants[(EVERYONE, "Fireflies.ai")]
    app_only = grants[(APP_ONLY, "ChatGPT")]
    assert (day(chatgpt.granted_at), day(chatgpt.last_used_at)) == ("2025-05-12", "2025-06-18")
    # An amended consent (Remove and Add of the grant, one correlationId) is no revocation.
    assert (claude.status, day(claude.granted_at)) == (GrantStatus.ACTIVE, "2025-06-05")
    # Bob signed in to the app an admin consented for everyone: that grant was used.
    assert (day(fireflies.granted_at), day(fireflies.last_used_at)) == ("2025-04-02", "2025-06-19")
    assert grants[(DAVE, "Perplexity")].last_used_at is None  # a failed sign-in is no use
    assert app_only.consent is ConsentType.APPLICATION and app_only.user_id is None
    assert app_only.scopes == ("Files.Read.All", "Sites.Read.All")
    assert app_only.resource == "00000003-0000-0000-c000-000000000000"
    assert day(app_only.granted_at) == "2025-06-03"
    assert len(batch.grants) == 11 and not batch.skipped
    assert batch.complete_for == frozenset({EVERYONE, APP_ONLY})


def test_entra_removals_date_the_grants_the_listing_no_longer_holds() -> None:
    grants = by_app(read(Provider.ENTRA, *ENTRA_ALL))

    removed_app = grants[(APP_ONLY, "Fireflies.ai")]
    removed_user = grants[(CAROL, "Perplexity")]
    assert (removed_app.status, day(removed_app.granted_at), day(removed_app.revoked_at)) == (
        GrantStatus.REVOKED,
        "2025-04-02",
        "2025-06-15",
    )
    assert removed_app.scopes == ("Calendars.Read",)
    assert (removed_user.status, day(removed_user.granted_at), day(removed_user.revoked_at)) == (
        GrantStatus.REVOKED,
        "2025-06-01",
        "2025-06-10",
    )


@pytest.mark.parametrize(
    ("names", "expected", "complete"),
    [
        # consents alone: grants as the log tells them, live unless a removal followed
        (
            (ENTRA_FILES[1], ENTRA_ACTIVITY_FILES[0]),
            {
                (ALICE, "ChatGPT", GrantStatus.ACTIVE),
                (BOB, "Claude", GrantStatus.ACTIVE),
                (CAROL, "Otter.ai", GrantStatus.ACTIVE),
                (CAROL, "Perplexity", GrantStatus.REVOKED),
                (EVERYONE, "Fireflies.ai", GrantStatus.ACTIVE),
                (APP_ONLY, "ChatGPT", GrantStatus.ACTIVE),
                (APP_ONLY, "Fireflies.ai", GrantStatus.REVOKED),
            },
            frozenset(),
        ),
        # sign-ins alone date nothing: use without a grant is not a grant
        ((ENTRA_FILES[1], ENTRA_ACTIVITY_FILES[1]), set(), frozenset()),
        (
            (ENTRA_FILES[1], ENTRA_ACTIVITY_FILES[2]),
            {(APP_ONLY, "ChatGPT", GrantStatus.ACTIVE)},
            frozenset({APP_ONLY}),
        ),
    ],
)
def test_each_entra_activity_file_imports_with_the_service_principals(
    names: tuple[str, ...], expected: set[tuple[str, str, GrantStatus]], complete: frozenset[str]
) -> None:
    batch = read(Provider.ENTRA, *names)

    assert {(h, app, g.status) for (h, app), g in by_app(batch).items()} == expected
    assert batch.complete_for == complete and not batch.skipped


def test_app_roles_without_service_principals_keep_their_ids_and_say_why() -> None:
    batch = read(Provider.ENTRA, ENTRA_ACTIVITY_FILES[2])

    (grant,) = batch.grants
    assert grant.client_id == "5f1e0a9b-0000-4000-8000-00000000c001"  # the SP object id
    assert grant.scopes == (
        "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
        "332a536c-c7ef-4017-ab91-336970924f0d",
    )
    assert batch.skipped == (
        Skipped("appRoleAssignments", "its client service principal is not in the import"),
    )


def write(tmp_path: Path, name: str, body: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_unknown_entra_shapes_are_skipped_with_a_reason(tmp_path: Path) -> None:
    at = "2025-06-01T00:00:00Z"
    audits = write(
        tmp_path,
        "audits.json",
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
            "value": [
                {"activityDisplayName": "Consent to application"},
                {
                    "activityDisplayName": "Consent to application",
                    "activityDateTime": at,
                    "targetResources": "not a list",
                },
                {
                    "activityDisplayName": "Remove delegated permission grant",
                    "activityDateTime": at,
                    "initiatedBy": None,
                    "targetResources": [7],
                },
                {
                    "activityDisplayName": "Consent to application",
                    "activityDateTime": at,
                    "result": "failure",
                },
                {"activityDisplayName": "Update user", "activityDateTime": at},
                "not an event",
            ],
        },
    )
    sign_ins = write(
        tmp_path,
        "signins.json",
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            "value": [{"createdDateTime": at, "status": {"errorCode": 0}}, {"status": "odd"}],
        },
    )
    roles = write(
        tmp_path,
        "roles.json",
        {
            "value": [
                {
                    "appRoleId": "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
                    "principalType": "User",
                    "principalId": ALICE,
                    "resourceId": "r",
                },
                {
                    "appRoleId": "00000000-0000-0000-0000-000000000000",
                    "principalType": "ServicePrincipal",
                    "principalId": "p",
                    "resourceId": "r",
                },
                {"appRoleId": "01d4889c-1287-42c6-ac1f-5d1e02578ef6"},
            ]
        },
    )

    batch = connector_for(Provider.ENTRA).read_files(
        [asset(ENTRA_FILES[1]), audits, sign_ins, roles]
    )

    assert not batch.grants
    assert {(s.where, s.reason) for s in batch.skipped} == {
        ("appRoleAssignments", "assigned to a User: app access, not a permission"),
        ("appRoleAssignments", "no principalId, resourceId or appRoleId"),
        ("appRoleAssignments", "the default role: access to the app, no permission"),
        ("directoryAudits", "Consent to application: no activityDateTime"),
        ("directoryAudits", "Consent to application: its service principal is not in the import"),
        (
            "directoryAudits",
            "Remove delegated permission grant: no known client service principal or user",
        ),
        ("signIns", "no createdDateTime, userId or appId"),
    }


def test_entra_records_of_the_wrong_types_are_skipped_never_fatal(tmp_path: Path) -> None:
    """modifiedProperties that is a number, a value nested past the recursion limit, appRoles
    that is not a list: the record is skipped or read as far as it goes, and the rest of
    the import stands."""
    at = "2025-06-01T00:00:00Z"
    unknown_sp = {"id": "5f1e0a9b-0000-4000-8000-0000000000ff", "type": "ServicePrincipal"}
    deep = [{"displayName": "ConsentAction.Permissions", "newValue": "[" * 100_000}]
    audits = [
        {
            "activityDisplayName": "Consent to application",
            "activityDateTime": at,
            "targetResources": [{**unknown_sp, "modifiedProperties": props}],
        }
        for props in (7, True, deep)
    ]
    sps = [*sample(ENTRA_FILES[1])["value"], {"id": "sp-odd", "appId": "odd", "appRoles": 5}]
    client = next(sp for sp in sps if not sp["appId"].startswith("00000003"))
    role = {
        "principalId": client["id"],
        "principalType": "ServicePrincipal",
        "resourceId": "sp-odd",
        "appRoleId": "0d0d0d0d-0000-4000-8000-000000000001",
    }
    clean = read(Provider.ENTRA, *ENTRA_ALL)

    batch = connector_for(Provider.ENTRA).read_files(
        [
            *(asset(n) for n in ENTRA_ALL if n != ENTRA_FILES[1]),
            write(tmp_path, "sps.json", {"value": sps}),
            write(tmp_path, "more-audits.json", {"value": audits}),
            write(tmp_path, "more-roles.json", {"value": [role]}),
        ]
    )

    added = {g[:3] for g in state(batch)} - {g[:3] for g in state(clean)}
    assert added == {(APP_ONLY, client["appId"], (role["appRoleId"],))}  # appRoles: not a list
    assert state(clean) <= state(batch)
    assert batch.skipped == (
        Skipped(
            "directoryAudits",
            "3 record(s): Consent to application: its service principal is not in the import",
        ),
    )


def test_okta_log_events_of_the_wrong_types_are_skipped_never_fatal(tmp_path: Path) -> None:
    token_grant = next(
        e
        for e in sample(OKTA_LOG_FILE)
        if e["eventType"].endswith("token.grant.access_token")
        and e["outcome"]["result"] == "SUCCESS"
    )
    odd = [
        {**token_grant, "outcome": {"result": ["SUCCESS"]}},
        {**token_grant, "target": [{"type": ["AppInstance"], "id": "x"}], "client": None},
    ]
    clean = read(Provider.OKTA, *OKTA_ALL)

    batch = connector_for(Provider.OKTA).read_files(
        [*(asset(n) for n in OKTA_ALL), write(tmp_path, "odd-log.json", odd)]
    )

    assert state(batch) == state(clean)
    assert {s.reason for s in batch.skipped} == {
        "app.oauth2.as.token.grant.access_token: no published time, user or app"
    }


# -- Okta files -----------------------------------------------------------------------------


def test_the_okta_system_log_gives_grant_use_and_revoke_dates() -> None:
    batch = read(Provider.OKTA, *OKTA_ALL)
    grants = {g.user_id: g for g in batch.grants}

    alice, bob, carol, dave = (grants[u] for u in (OKTA_ALICE, OKTA_BOB, OKTA_CAROL, OKTA_DAVE))
    apps = {a.client_id: a.display_name for a in batch.apps}
    assert (day(alice.granted_at), day(alice.last_used_at)) == ("2025-02-12", "2025-06-18")
    assert day(bob.last_used_at) == "2025-06-17"  # the client named only by client.id
    assert dave.last_used_at is None  # the token request failed: no use
    # Carol's grant list is empty: consented in April, revoked by an admin in May.
    assert (carol.status, day(carol.granted_at), day(carol.revoked_at)) == (
        GrantStatus.REVOKED,
        "2025-04-08",
        "2025-05-30",
    )
    assert carol.scopes == ("openid", "profile", "email", "offline_access")
    assert apps[CHATGPT_OKTA] == "ChatGPT Enterprise"
    assert len(batch.grants) == 4 and not batch.skipped


def test_okta_grant_objects_keep_their_created_date_without_the_log() -> None:
    grants = {g.user_id: g for g in read(Provider.OKTA, *OKTA_FILES).grants}

    assert day(grants[OKTA_BOB].granted_at) == "2025-03-03"
    assert grants[OKTA_BOB].last_used_at is None


def test_the_okta_log_alone_gives_grants_and_unknown_events_are_skipped(tmp_path: Path) -> None:
    odd = write(
        tmp_path,
        "odd-log.json",
        [
            {"eventType": "app.oauth2.as.consent.grant", "published": "yesterday"},
            {
                "eventType": "app.oauth2.as.token.grant.access_token",
                "published": "2025-06-01T00:00:00Z",
                "actor": "someone",
                "target": {"not": "a list"},
            },
            {"eventType": "user.session.start", "published": "2025-06-01T00:00:00Z"},
        ],
    )

    batch = connector_for(Provider.OKTA).read_files([asset(OKTA_LOG_FILE), odd])

    assert {(g.user_id, g.status) for g in batch.grants} == {
        (OKTA_ALICE, GrantStatus.ACTIVE),
        (OKTA_BOB, GrantStatus.ACTIVE),
        (OKTA_DAVE, GrantStatus.ACTIVE),
        (OKTA_CAROL, GrantStatus.REVOKED),
    }
    assert {s.reason for s in batch.skipped} == {
        "app.oauth2.as.consent.grant: no published time, user or app",
        "app.oauth2.as.token.grant.access_token: no published time, user or app",
    }


# -- live sweeps ----------------------------------------------------------------------------


def sweep(
    provider: Provider, server: ReplayServer, waits: list[float], days: int = 30
) -> GrantBatch:
    client = LiveClient(provider, server.url, CREDENTIAL, sleep=waits.append)
    return connector_for(provider, lookback_days=days).sweep(client)


def test_an_entra_sweep_reads_roles_audits_and_sign_ins_page_by_page() -> None:
    waits: list[float] = []
    with replay() as server:
        entra_replay(server, activity=True)
        live = sweep(Provider.ENTRA, server, waits)
        seen = list(server.seen)
        left = {path for path, queue in server.queues.items() if queue}

    assert not left, f"pages never asked for: {sorted(left)}"
    assert waits == [2.0, 2.0]  # the grants' 429 and the sign-ins' 429
    assert state(live) == state(read(Provider.ENTRA, *ENTRA_ALL))
    queries = [s.query.get("$filter", "") for s in seen if s.path == "/auditLogs/directoryAudits"]
    assert [q.split("'")[1] for q in queries] == [
        "Consent to application",
        "Add delegated permission grant",
        "Remove delegated permission grant",
        "Remove app role assignment from service principal",
    ]
    assert all("activityDateTime ge 20" in q for q in queries)
    (signins,) = [s.query for s in seen if s.path == "/auditLogs/signIns"]
    assert "createdDateTime ge 20" in signins["$filter"]
    assert "status/errorCode eq 0" in signins["$filter"]
    (sps,) = [s.query for s in seen if s.path == "/servicePrincipals"]
    assert "appRoles" in sps["$select"].split(",")
    assert "appRoleAssignedTo" in live.sources and not live.skipped


def test_an_entra_sweep_steps_over_audit_logs_it_may_not_read() -> None:
    """A 403 on directoryAudits (no AuditLog.Read.All): the sweep records why and goes on
    with the grants, the app roles and the sign-ins."""
    waits: list[float] = []
    with replay() as server:
        entra_replay(server, activity=True, audits_refused=True)
        live = sweep(Provider.ENTRA, server, waits)
        left = {path for path, queue in server.queues.items() if queue}

    grants = by_app(live)
    assert live.skipped == (
        Skipped(
            "/auditLogs/directoryAudits",
            "not readable: 403 Authorization_RequestDenied; needs AuditLog.Read.All",
        ),
    )
    assert not left and waits == [2.0, 2.0]
    assert len(live.grants) == 9  # the 8 delegated grants and ChatGPT's app-only one
    assert grants[(ALICE, "ChatGPT")].granted_at is None
    assert day(grants[(ALICE, "ChatGPT")].last_used_at) == "2025-06-18"
    assert "/auditLogs/directoryAudits" not in live.sources


def test_an_okta_sweep_reads_the_system_log_bounded_by_the_lookback() -> None:
    waits: list[float] = []
    with replay() as server:
        okta_replay(server, log=True)
        live = sweep(Provider.OKTA, server, waits, days=7)
        seen = list(server.seen)
        left = {path for path, queue in server.queues.items() if queue}

    assert not left and waits == [2.0]
    assert state(live) == state(read(Provider.OKTA, *OKTA_ALL))
    (logs,) = [s.query for s in seen if s.path == "/api/v1/logs"]
    since, until = (
        datetime.fromisoformat(logs[k].replace("Z", "+00:00")) for k in ("since", "until")
    )
    assert (until - since).days == 7
    assert 'eventType eq "app.oauth2.as.consent.grant"' in logs["filter"]
    assert 'eventType sw "app.oauth2.as.consent.revoke"' in logs["filter"]
    assert logs["limit"] == "1000"


def test_an_okta_sweep_without_okta_logs_read_still_imports_the_grants() -> None:
    with replay() as server:
        okta_replay(server, log_refused=True)
        live = sweep(Provider.OKTA, server, [])

    assert len(live.grants) == 3
    assert live.skipped == (
        Skipped(
            "/api/v1/logs",
            "not readable: 403 E0000006; needs okta.logs.read"
            " (an API token of an admin who may read the System Log)",
        ),
    )


# -- stored, and in the report -------------------------------------------------------------


def import_files(url: str, provider: Provider, names: tuple[str, ...]) -> None:
    run_import(ImportRequest(url, provider, files=tuple(asset(n) for n in names)), {})


@pytest.fixture
def reported(db_url: str) -> dict[str, object]:
    import_files(db_url, Provider.GOOGLE, GOOGLE_FILES)
    import_files(db_url, Provider.ENTRA, ENTRA_ALL)
    import_files(db_url, Provider.OKTA, OKTA_ALL)
    document: dict[str, object] = json.loads(render_report(db_url, "json"))
    return document


def grant_row(
    report: dict[str, object], provider: str, app: str, user: str | None, consent: str = ""
) -> dict:
    rows = [
        g
        for g in report["grants"]  # type: ignore[attr-defined]
        if (g["provider"], g["app"], g["user"]) == (provider, app, user)
        and g["consent"] == (consent or g["consent"])
    ]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_report_shows_entra_grant_dates_and_use(reported: dict[str, object]) -> None:
    chatgpt = grant_row(reported, "entra", "ChatGPT", "alice@example.com")
    fireflies = grant_row(reported, "entra", "Fireflies.ai", None, "admin")

    assert chatgpt["granted_at"].startswith("2025-05-12")
    assert chatgpt["last_used_at"].startswith("2025-06-18")
    assert fireflies["last_used_at"].startswith("2025-06-19")


def test_the_report_shows_the_okta_revoke(reported: dict[str, object]) -> None:
    carol = grant_row(reported, "okta", "ChatGPT Enterprise", "carol@example.com")

    assert (carol["status"], carol["revoked_at"][:10], carol["granted_at"][:10]) == (
        "revoked",
        "2025-05-30",
        "2025-04-08",
    )


def test_an_ai_vendors_app_only_grant_ranks_above_admin_consent(
    reported: dict[str, object],
) -> None:
    conclusions = reported["conclusions"]
    risky = [
        c
        for c in conclusions  # type: ignore[attr-defined]
        if c["kind"] == "risky_scopes" and c["vendor"] == "openai" and "app-only" in c["detail"]
    ]
    wide = {c["title"]: c["severity"] for c in conclusions if c["kind"] == "tenant_wide_consent"}  # type: ignore[attr-defined]

    (app_only,) = risky
    assert app_only["severity"] == "critical"
    assert app_only["evidence"]["scopes"] == ["Files.Read.All", "Sites.Read.All"]
    assert "an admin granted ChatGPT app-only access (entra)" in app_only["detail"]
    assert wide == {
        "OpenAI has app-only permissions": "critical",
        "Fireflies.ai has tenant-wide consent": "high",
    }
    row = grant_row(reported, "entra", "ChatGPT", None)
    assert row["access"] == "app-only (acts as itself, no user)"


def test_a_listing_revokes_only_the_grants_it_covers(db_url: str, tmp_path: Path) -> None:
    """Delegated grants alone leave app-only ones be; an empty role listing revokes them."""
    import_files(db_url, Provider.ENTRA, ENTRA_ALL)
    import_files(db_url, Provider.ENTRA, ENTRA_FILES)
    before = grant_row(json.loads(render_report(db_url, "json")), "entra", "ChatGPT", None)
    no_roles = write(
        tmp_path,
        "roles.json",
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('x')/appRoleAssignedTo",
            "value": [],
        },
    )
    run_import(ImportRequest(db_url, Provider.ENTRA, files=(asset(ENTRA_FILES[1]), no_roles)), {})
    after = grant_row(json.loads(render_report(db_url, "json")), "entra", "ChatGPT", None)

    assert before["status"] == "active" and before["last_used_at"] is None
    assert after["status"] == "revoked"
    alice = grant_row(
        json.loads(render_report(db_url, "json")), "entra", "ChatGPT", "alice@example.com"
    )
    assert alice["status"] == "active"  # the role listing says nothing of delegated grants


def test_the_cli_sweeps_the_lookback_it_is_given_and_refuses_zero(
    shadowmap: Callable[..., Run], sqlite_url: str
) -> None:
    """A real process against the loopback replay server: --lookback-days bounds the
    System Log query, and the summary names what the sweep skipped."""
    options = ["collector", "import-grants", "--provider", "okta", "--live", "--db", sqlite_url]
    env = {"SHADOWMAP_OKTA_TOKEN": CREDENTIAL}
    with replay() as server:
        okta_replay(server, log_refused=True)
        run = shadowmap(*options, "--base-url", server.url, "--lookback-days", "3", env=env)
        (logs,) = [s.query for s in server.seen if s.path == "/api/v1/logs"]
    zero = shadowmap(*options, "--base-url", "http://127.0.0.1:9", "--lookback-days", "0", env=env)

    since, until = (
        datetime.fromisoformat(logs[k].replace("Z", "+00:00")) for k in ("since", "until")
    )
    assert run.code == 0, run.stderr
    assert (until - since).days == 3
    assert "skipped /api/v1/logs: not readable: 403 E0000006" in run.stdout
    assert zero.code == 2 and "--lookback-days must be 1 or more" in zero.stderr


def test_an_unknown_tenant_app_reading_every_mailbox_is_critical_a_first_party_one_is_not(
    db_url: str, tmp_path: Path
) -> None:
    """App-only Mail.Read (Graph app role 810c84a8-..., merill/microsoft-info) held by an
    app of this tenant that no catalog knows, and by one that Microsoft's tenant owns."""
    graph = {
        "id": "9e2b0000-0000-4000-8000-00000000aa01",
        "appId": "00000003-0000-0000-c000-000000000000",
        "displayName": "Microsoft Graph",
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "servicePrincipalType": "Application",
        "appRoles": [{"id": "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "value": "Mail.Read"}],
    }
    clients = [
        ("9e2b0000-0000-4000-8000-00000000cc01", "Contoso Mail Archiver", "0c0a0000-1111"),
        (
            "9e2b0000-0000-4000-8000-00000000cc02",
            "Mailbox Insights Service",
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        ),
    ]
    sps = [graph] + [
        {
            "id": object_id,
            "appId": object_id.replace("9e2b", "a1b2"),
            "displayName": name,
            "appOwnerOrganizationId": owner,
            "servicePrincipalType": "Application",
        }
        for object_id, name, owner in clients
    ]
    assignments = [
        {
            "id": f"assign-{n}",
            "appRoleId": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
            "createdDateTime": "2025-06-01T08:00:00Z",
            "principalId": object_id,
            "principalType": "ServicePrincipal",
            "principalDisplayName": name,
            "resourceId": graph["id"],
            "resourceDisplayName": "Microsoft Graph",
        }
        for n, (object_id, name, _owner) in enumerate(clients)
    ]
    context = "https://graph.microsoft.com/v1.0/$metadata#"
    files = (
        write(
            tmp_path, "sps.json", {"@odata.context": context + "servicePrincipals", "value": sps}
        ),
        write(
            tmp_path,
            "roles.json",
            {
                "@odata.context": context + f"servicePrincipals('{graph['id']}')/appRoleAssignedTo",
                "value": assignments,
            },
        ),
    )
    run_import(ImportRequest(db_url, Provider.ENTRA, files=files), {})

    report = json.loads(render_report(db_url, "json"))
    unvetted = [c for c in report["conclusions"] if c["kind"] == "unvetted_app"]

    assert [(c["title"], c["severity"]) for c in unvetted] == [
        ("Unknown app with mail access: Contoso Mail Archiver", "critical")
    ]


def test_a_grant_unused_for_90_days_before_the_idps_newest_use_is_stale(
    db_url: str, tmp_path: Path
) -> None:
    """The sample's sign-ins, with Claude's last one moved 120 days back: its grant (mail,
    files, offline access) is stale against the newest sign-in; the others are not."""
    sign_ins = json.loads(asset("graph-signIns.json").read_text(encoding="utf-8"))
    for entry in sign_ins["value"]:
        if entry.get("appDisplayName") == "Claude":
            entry["createdDateTime"] = "2025-02-19T11:30:09Z"  # 120 days before 2025-06-19
    names = [n for n in ENTRA_ALL if n != "graph-signIns.json"]
    files = (*(asset(n) for n in names), write(tmp_path, "sign-ins.json", sign_ins))
    run_import(ImportRequest(db_url, Provider.ENTRA, files=files), {})

    report = json.loads(render_report(db_url, "json"))
    stale = [c for c in report["conclusions"] if c["kind"] == "stale_grant"]

    assert [(c["title"], c["severity"]) for c in stale] == [
        ("Unused Anthropic grant: Claude", "medium")
    ]
    assert "on 2025-02-19, 120 days before the newest use entra shows" in stale[0]["detail"]
    assert stale[0]["evidence"]["as_of"].startswith("2025-06-19")
