"""Correlation on SQLite and PostgreSQL: every sample imported, then the conclusions an
analyst would draw (who granted which AI what, what is risky, what is not AI at all),
vendor matching, trust scores with coverage, and people joined to devices with evidence."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shadowmap.server import conclusions, inventory, people, trust, views
from shadowmap.server.db import open_database
from shadowmap.server.grant_import import ImportRequest, run_import
from shadowmap.server.idp.interface import Provider
from shadowmap.server.tables import Device, utcnow
from shadowmap.server.vendor_match import AppFacts, match_app
from shadowmap.signatures.catalog import load_catalog
from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, OKTA_FILES, asset

IMPORTS = (
    (Provider.GOOGLE, GOOGLE_FILES),
    (Provider.ENTRA, ENTRA_FILES),
    (Provider.OKTA, OKTA_FILES),
)


def import_all(url: str, environ: dict[str, str] | None = None) -> None:
    for provider, names in IMPORTS:
        request = ImportRequest(url, provider, files=tuple(asset(n) for n in names))
        run_import(request, environ or {})


@pytest.fixture
def imported(db_url: str) -> str:
    import_all(db_url)
    return db_url


def derive(url: str) -> tuple[inventory.Inventory, list[conclusions.Conclusion]]:
    engine = open_database(url)
    try:
        with Session(engine) as session:
            built = inventory.build(session)
            return built, conclusions.derive(built)
    finally:
        engine.dispose()


def titles(found: list[conclusions.Conclusion], kind: str) -> set[str]:
    return {c.title for c in found if c.kind == kind}


def test_the_samples_lead_to_the_analysts_conclusions(imported: str) -> None:
    built, found = derive(imported)

    assert titles(found, "lookalike_app") == {"Lookalike of OpenAI: ChatGPT Assistant for Outlook"}
    assert titles(found, "shadow_ai") == {
        "Shadow AI: Otter.ai",
        "Shadow AI: Fireflies.ai",
        "Shadow AI: Perplexity",
    }
    assert titles(found, "revoked_in_one_idp_live_in_another") == {
        "Otter.ai: revoked in google, live in entra"
    }
    assert titles(found, "tenant_wide_consent") == {"Fireflies.ai has tenant-wide consent"}
    assert titles(found, "unvetted_app") == {
        "MCP server OAuth client with mail access: mcp-gmail-server"
    }
    inactive = {c.detail.split(";")[0] for c in found if c.kind == "grant_of_inactive_user"}
    assert inactive == {
        "dave@example.com is suspended in entra",
        "dave@example.com is suspended in okta",
    }
    risky = {(c.vendor, c.detail.split(" granted ")[0]) for c in found if c.kind == "risky_scopes"}
    assert ("openai", "alice@example.com") in risky and ("anthropic", "bob@example.com") in risky


def test_grants_that_are_not_ai_are_named_and_left_out(imported: str) -> None:
    built, found = derive(imported)

    not_ai = {g.app_name for g in built.grants if g.match.not_ai}
    flagged = {gid for c in found for gid in c.grant_ids}
    assert not_ai == {"Slack", "Zoom", "Google Chrome"}
    assert not any(g.id in flagged for g in built.grants if g.match.not_ai)


def test_sanction_comes_from_the_okta_sso_apps_until_an_admin_decides(imported: str) -> None:
    built, _ = derive(imported)

    vendors = built.vendors
    assert vendors["openai"].sanctioned.sanctioned is True
    assert "ChatGPT Enterprise" in vendors["openai"].sanctioned.reason
    assert vendors["anthropic"].sanctioned.sanctioned is True
    assert vendors["perplexity"].sanctioned.sanctioned is False
    assert "inactive" in vendors["perplexity"].sanctioned.reason


def test_people_have_their_identities_across_idps(imported: str) -> None:
    built, _ = derive(imported)

    rows = {row["email"]: row for row in views.person_rows(built)}
    assert set(rows) == {
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    }
    assert sorted(rows["dave@example.com"]["identities"]) == [
        "entra:suspended",
        "google:unknown",
        "okta:suspended",
    ]
    assert rows["dave@example.com"]["status"] == "suspended"


def test_importing_again_changes_nothing_and_a_shorter_export_revokes(
    db_url: str, tmp_path
) -> None:
    import_all(db_url)
    import_all(db_url)
    built, _ = derive(db_url)
    before = sorted((g.provider, g.app_name, g.status) for g in built.grants)

    smaller = tmp_path / "tokens.json"
    tokens = asset(GOOGLE_FILES[0]).read_text()
    import json

    data = json.loads(tokens)
    data["bob@example.com"]["items"] = [
        i for i in data["bob@example.com"]["items"] if i["displayText"] != "Claude"
    ]
    smaller.write_text(json.dumps(data))
    run_import(ImportRequest(db_url, Provider.GOOGLE, files=(smaller,)), {})
    after, _ = derive(db_url)

    assert len(before) == 23
    claude = [g for g in after.grants if g.provider == "google" and g.app_name == "Claude"]
    assert [g.status for g in claude] == ["revoked"]
    assert claude[0].revoked_at is not None


# -- matching and trust ---------------------------------------------------------------------

MATCH_ROWS = [
    # (provider, name, publisher, verified, domains, vendor, confidence, lookalike_of, not_ai)
    ("entra", "Claude", "Anthropic", "Anthropic", ("claude.ai",), "anthropic", "high", None, None),
    ("entra", "ChatGPT", "OpenAI", None, ("chatgpt.com",), "openai", "high", None, None),
    (
        "entra",
        "ChatGPT Assistant for Outlook",
        "gpt-tools-dev",
        None,
        ("gpt-assistant.example.net",),
        None,
        "high",
        "openai",
        None,
    ),
    ("entra", "Otter.ai", "Otter.ai", "Otter.ai", ("otter.ai",), "otter-ai", "high", None, None),
    ("google", "ChatGPT", None, None, (), "openai", "low", None, None),
    ("google", "ChatGPT for Sheets", None, None, (), None, "low", "openai", None),
    ("okta", "Perplexity Enterprise Pro", None, None, (), "perplexity", "low", None, None),
    ("google", "Slack", None, None, (), None, None, None, "slack"),
    (
        "entra",
        "Zoom",
        "Zoom Video Communications",
        "Zoom Video Communications, Inc.",
        ("zoom.us",),
        None,
        None,
        None,
        "zoom",
    ),
    ("google", "mcp-gmail-server", None, None, (), None, None, None, None),
    ("google", "Notes helper", None, None, (), None, None, None, None),
]


@pytest.mark.parametrize(
    (
        "provider",
        "name",
        "publisher",
        "verified",
        "domains",
        "vendor",
        "confidence",
        "lookalike",
        "not_ai",
    ),
    MATCH_ROWS,
)
def test_vendor_matching(
    provider, name, publisher, verified, domains, vendor, confidence, lookalike, not_ai
) -> None:
    facts = AppFacts(provider, f"id-{name}", name, publisher, verified, domains)

    found = match_app(load_catalog(), facts)

    assert (found.vendor_id, found.lookalike_of, found.not_ai) == (vendor, lookalike, not_ai)
    if vendor or lookalike:
        assert found.confidence == confidence


def test_a_known_client_id_wins() -> None:
    facts = AppFacts("entra", "7ab7862c-4c57-491e-8a45-d52a7e023983", "Some name")

    found = match_app(load_catalog(), facts)

    assert found.vendor_id == "microsoft-azure-openai"
    assert "Copilot Studio" in found.reasons[0]


def test_trust_scores_show_their_factors_and_coverage() -> None:
    catalog = load_catalog()

    openai = trust.score_vendor(catalog.vendor("openai"))
    deepseek = trust.score_vendor(catalog.vendor("deepseek"))
    together = trust.score_vendor(catalog.vendor("together-ai"))
    anthropic = trust.score_vendor(catalog.vendor("anthropic"))

    assert openai.assessed and openai.coverage == 0.9 and openai.score > 80
    assert deepseek.score < 30 and "processing only in the PRC" in deepseek.gates
    assert (
        not together.assessed
        and together.score is None
        and (together.low, together.high) == (0, 100)
    )
    assert anthropic.needs_review  # its ISO 42001 sources conflict
    known = [f for f in openai.factors if f.value is not None]
    assert (
        round(100 * sum(f.weight * f.value for f in known) / sum(f.weight for f in known))
        == openai.score
    )


def test_a_trust_override_is_shown_with_its_reason() -> None:
    score = trust.score_vendor(
        load_catalog().vendor("otter-ai"), override=90, override_reason="DPA signed"
    )

    assert (score.shown, score.override_reason) == (90, "DPA signed")
    assert score.score != 90


def test_the_catalog_covers_the_draft_and_every_vendor_has_sources() -> None:
    catalog = load_catalog()

    assert len(catalog.vendors) == 33
    assert all(v.sources for v in catalog.vendors)
    assert {v.id for v in catalog.vendors} >= {
        "openai",
        "anthropic",
        "gong",
        "pinecone",
        "otter-ai",
    }


# -- people and devices ------------------------------------------------------------------


def _device(session: Session, machine: str, email: str | None, os_user: str | None) -> Device:
    now = utcnow()
    device = Device(
        id=f"dev-{machine}",
        machine_id=machine,
        hostname=f"{machine}-laptop",
        os="linux",
        os_user=os_user,
        email=email,
        token_hash=machine * 4,
        enrolled_at=now,
        last_seen=now,
    )
    session.add(device)
    session.flush()
    return device


@pytest.mark.parametrize(
    ("rules", "email", "os_user", "joined", "rule"),
    [
        (
            (people.JoinRule.EMAIL, people.JoinRule.OS_USER),
            "Bob@Example.com",
            "root",
            "bob@example.com",
            "email",
        ),
        (
            (people.JoinRule.EMAIL, people.JoinRule.OS_USER),
            None,
            "carol",
            "carol@example.com",
            "os_user",
        ),
        ((people.JoinRule.EMAIL,), None, "carol", None, None),
        ((people.JoinRule.OS_USER,), "bob@example.com", "zed", None, None),
    ],
)
def test_devices_join_people_by_the_configured_rules(
    imported: str, rules, email, os_user, joined, rule
) -> None:
    engine = open_database(imported)
    try:
        with Session(engine) as session:
            device = _device(session, "m1", email, os_user)
            people.link_devices(session, rules)
            session.commit()
            built = inventory.build(session)
    finally:
        engine.dispose()

    link = built.links.get(device.id)
    assert (built.people[link.person_id].email if link else None) == joined
    assert (link.rule if link else None) == rule
    if link:
        assert link.evidence["person_email"] == joined


def test_the_join_rules_come_from_the_environment() -> None:
    assert people.rules_from({}) == people.DEFAULT_RULES
    assert people.rules_from({"SHADOWMAP_JOIN_RULES": "os_user"}) == (people.JoinRule.OS_USER,)
    with pytest.raises(Exception) as bad:
        people.rules_from({"SHADOWMAP_JOIN_RULES": "email,guess"})
    assert "unknown rule" in str(bad.value)


def test_the_summary_counts_what_is_new_this_week(imported: str) -> None:
    built, found = derive(imported)

    summary = views.summary(built, found)

    assert summary["new_this_week"]["grants"] == 23
    assert summary["ai_grants"] == 14 and summary["not_ai_grants"] == 6
    assert summary["shadow_vendors"] == 3
