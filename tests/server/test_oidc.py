"""OIDC sign-in through a real OpenID provider on loopback (tests/server/oidc_provider.py)
against a running collector on SQLite and on PostgreSQL: the flow, the roles that groups
give, every way it must fail, the settings, and a log that never holds a code or a secret.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from markupsafe import escape

from shadowmap.agent.errors import ConfigError
from shadowmap.server import auth, oidc
from shadowmap.server.errors import SignInStale
from shadowmap.server.routes.ui_oidc import DISABLED
from shadowmap.server.settings import OidcSettings, TokenAuth, oidc_settings
from tests.server.conftest import Collector, free_port
from tests.server.oidc_provider import (
    Provider,
    client_secret,
    hs256_with_public_key,
    new_rsa_key,
    rs256,
    running_provider,
    unsigned,
)
from tests.server.pages_helpers import PASSWORD, admin_api, csrf_of, new_account, sign_in_with_token

if TYPE_CHECKING:
    from tests.server.conftest import CollectorProcess

ADMINS = "shadowmap-admins"
START = "/login/oidc"
CALLBACK = "/login/oidc/callback"
LOGIN_FORM = '<form method="post" action="/login">'


# -- the provider, collectors that use it, and a browser's steps ------------------------


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def settings_for(provider: Provider, **changes: Any) -> OidcSettings:
    fields: dict[str, Any] = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.secret,
        "name": "Loopback IdP",
        "allowed_domains": frozenset({"example.com"}),
        "admin_groups": frozenset({ADMINS}),
    }
    return OidcSettings(**{**fields, **changes})


@pytest.fixture
def sso(db_url: str, serve_app: Callable[..., Collector], provider: Provider) -> Collector:
    return serve_app(db_url, oidc=settings_for(provider))


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="shadowmap")
    return caplog


def sign_in(collector: Collector) -> requests.Response:
    """The whole flow as a browser follows it: the collector, the IdP, the collector."""
    return collector.http.get(collector.url(START), timeout=10)


def to_callback(collector: Collector) -> str:
    """Starts a sign-in and lets the IdP answer; the callback URL, not visited yet."""
    start = collector.http.get(collector.url(START), allow_redirects=False, timeout=10)
    assert start.status_code == 303, start.text
    answer = collector.http.get(start.headers["location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["location"]
    return location


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, **changes})).geturl()


def assert_refused(collector: Collector, response: requests.Response, status: int, message: str):
    assert response.status_code == status, response.text
    assert LOGIN_FORM in response.text
    assert str(escape(message)) in response.text
    assert auth.SESSION_COOKIE not in collector.http.cookies
    assert collector.http.get(collector.url("/"), timeout=10).url.endswith("/login")


def now() -> int:
    return int(time.time())


# -- signing in ---------------------------------------------------------------------------


def test_without_oidc_settings_there_is_no_button_and_no_route(collector: Collector) -> None:
    page = collector.http.get(collector.url("/login"), timeout=10)
    start = collector.http.get(collector.url(START), allow_redirects=False, timeout=10)

    assert 'href="/login/oidc"' not in page.text
    assert start.status_code == 404


def test_a_person_signs_in_by_oidc_and_reads_the_pages_as_a_viewer(
    sso: Collector, provider: Provider, log: pytest.LogCaptureFixture
) -> None:
    login = sso.http.get(sso.url("/login"), timeout=10)
    answer = sign_in(sso)
    overview = sso.http.get(sso.url("/"), timeout=10)
    admin_page = sso.http.get(sso.url("/admin"), timeout=10)
    (query,) = provider.authorize_queries

    assert (
        '<a class="button primary" href="/login/oidc">Sign in with Loopback IdP</a>' in login.text
    )
    assert "<script" not in login.text
    assert (
        answer.status_code == 200
        and '<meta http-equiv="refresh" content="0; url=/">' in answer.text
    )
    assert overview.status_code == 200 and "alice@example.com · viewer" in overview.text
    assert admin_page.status_code == 403
    assert auth.PENDING_COOKIE not in sso.http.cookies  # used once, then gone
    # RFC 7636 and OpenID Connect Core 1.0, 3.1.2.1: PKCE S256, state and nonce went out;
    # the provider checked the verifier against the challenge before it answered 200.
    assert query["redirect_uri"] == sso.url(CALLBACK)
    assert query["code_challenge_method"] == "S256"
    assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
    assert provider.token_answers == [200]
    assert "signed in alice@example.com by OIDC as viewer" in log.text


def test_the_admin_group_makes_an_admin_and_each_sign_in_reads_the_groups_again(
    sso: Collector, provider: Provider
) -> None:
    provider.claims = {"groups": ["Everyone", ADMINS]}
    sign_in(sso)
    as_admin = sso.http.get(sso.url("/admin"), timeout=10)

    provider.claims = {"groups": ["Everyone"]}
    later = Collector(sso.base_url)
    sign_in(later)
    as_viewer = later.http.get(later.url("/admin"), timeout=10)
    old_session = sso.http.get(sso.url("/admin"), timeout=10)
    accounts = admin_api(sso, "GET", "/api/v1/accounts").json()

    assert as_admin.status_code == 200 and "alice@example.com · admin" in as_admin.text
    assert 'alice@example.com <span class="pill" title="signs in through the IdP' in as_admin.text
    assert as_viewer.status_code == 403
    assert old_session.status_code == 403  # the role is read on every request
    assert [(a["username"], a["role"]) for a in accounts] == [("alice@example.com", "viewer")]


def test_a_group_claim_can_be_a_single_string_under_another_name(
    db_url: str, serve_app: Callable[..., Collector], provider: Provider
) -> None:
    collector = serve_app(db_url, oidc=settings_for(provider, groups_claim="roles"))
    provider.claims = {"roles": ADMINS, "groups": None}

    sign_in(collector)

    assert collector.http.get(collector.url("/admin"), timeout=10).status_code == 200


@pytest.mark.parametrize("method", [TokenAuth.BASIC, TokenAuth.POST, None])
def test_the_client_authenticates_to_the_token_endpoint_as_configured(
    db_url: str,
    serve_app: Callable[..., Collector],
    provider: Provider,
    method: TokenAuth | None,
) -> None:
    collector = serve_app(db_url, oidc=settings_for(provider, token_auth=method))

    answer = sign_in(collector)

    assert answer.status_code == 200
    assert provider.client_auth_seen == ["post" if method is TokenAuth.POST else "basic"]


def test_an_idp_account_never_takes_over_a_local_account_of_its_email(
    sso: Collector, provider: Provider
) -> None:
    new_account(sso, "alice@example.com", "admin")

    sign_in(sso)
    overview = sso.http.get(sso.url("/"), timeout=10).text
    names = sorted(a["username"] for a in admin_api(sso, "GET", "/api/v1/accounts").json())
    no_password = Collector(sso.base_url)
    refused = no_password.http.post(
        no_password.url("/login"),
        data={"username": names[1], "password": PASSWORD},
        timeout=10,
    )

    assert names[0] == "alice@example.com" and names[1].startswith("alice@example.com#")
    assert f"{names[1]} · viewer" in overview
    assert refused.status_code == 401  # an OIDC account has no password to sign in with


def test_a_disabled_account_cannot_sign_in_by_oidc(sso: Collector, provider: Provider) -> None:
    assert sign_in(sso).status_code == 200
    (account,) = admin_api(sso, "GET", "/api/v1/accounts").json()
    admin = Collector(sso.base_url)
    sign_in_with_token(admin)
    disable = {"action": "disable", "csrf": csrf_of(admin)}
    admin.http.post(admin.url(f"/admin/accounts/{account['id']}"), data=disable, timeout=10)

    live_session = sso.http.get(sso.url("/"), timeout=10)
    browser = Collector(sso.base_url)
    again = sign_in(browser)

    assert live_session.url.endswith("/login")
    assert_refused(browser, again, 401, DISABLED)


# -- the browser's side of the flow -------------------------------------------------------


def test_a_state_that_is_not_this_sign_ins_is_refused(
    sso: Collector, provider: Provider, log: pytest.LogCaptureFixture
) -> None:
    callback = to_callback(sso)

    answer = sso.http.get(with_query(callback, state="another-sign-in"), timeout=10)

    assert_refused(sso, answer, 400, SignInStale.default_detail)
    assert provider.token_answers == []  # the code was never redeemed
    assert "the state is not this browser's sign-in" in log.text


def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(
    sso: Collector, provider: Provider
) -> None:
    callback = to_callback(sso)
    victim = Collector(sso.base_url)

    answer = victim.http.get(callback, timeout=10)

    assert_refused(victim, answer, 400, SignInStale.default_detail)
    assert provider.token_answers == []


def test_a_sign_in_left_too_long_is_refused(
    sso: Collector, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    callback = to_callback(sso)
    monkeypatch.setattr(auth, "PENDING_MAX_AGE_S", -1)  # any age is now too old

    answer = sso.http.get(callback, timeout=10)

    assert_refused(sso, answer, 400, SignInStale.default_detail)


def test_an_idp_error_is_shown_plainly(
    sso: Collector, provider: Provider, log: pytest.LogCaptureFixture
) -> None:
    provider.error = "access_denied"

    answer = sign_in(sso)

    assert_refused(sso, answer, 401, oidc.IDP_SAID_NO)
    assert "the IdP answered access_denied" in log.text


def test_a_replayed_code_is_refused(
    sso: Collector, provider: Provider, log: pytest.LogCaptureFixture
) -> None:
    callback = to_callback(sso)
    pending = sso.http.cookies.get(auth.PENDING_COOKIE)
    assert sso.http.get(callback, timeout=10).status_code == 200
    replay = Collector(sso.base_url)
    replay.http.cookies.set(auth.PENDING_COOKIE, pending, path=START)

    answer = replay.http.get(callback, timeout=10)

    assert_refused(replay, answer, 401, oidc.NOT_VERIFIED)
    assert provider.token_answers == [200, 400]
    assert "refused the code: HTTP 400, invalid_grant" in log.text


# -- the ID token -------------------------------------------------------------------------


BAD_TOKENS = [
    pytest.param(lambda p: p.claims.update(nonce="another-sign-in"), "nonce", id="wrong-nonce"),
    pytest.param(
        lambda p: setattr(p, "signer", rs256(new_rsa_key())),
        "InvalidSignatureError",
        id="signed-by-another-key",
    ),
    pytest.param(lambda p: setattr(p, "signer", unsigned), "none is refused", id="alg-none"),
    pytest.param(
        lambda p: setattr(p, "signer", hs256_with_public_key(p.key)),
        "HS256 is refused",
        id="hs256-keyed-with-the-public-key",
    ),
    pytest.param(
        lambda p: p.claims.update(exp=now() - 600, iat=now() - 900), "expired", id="expired"
    ),
    pytest.param(lambda p: p.claims.update(aud="another-client"), "another client", id="aud"),
    pytest.param(lambda p: p.claims.update(iss="http://127.0.0.1:9"), "another issuer", id="iss"),
    pytest.param(lambda p: p.claims.update(azp="another-client"), "(azp)", id="azp"),
    pytest.param(lambda p: p.claims.update(iat=now() - 3600), "too long ago", id="old-iat"),
    pytest.param(lambda p: p.claims.update(sub=None), "MissingRequiredClaim", id="no-sub"),
    # A NUL cannot be stored on PostgreSQL; OpenID Connect Core 1.0, 2: ASCII at most 255.
    pytest.param(lambda p: p.claims.update(sub="00u\x00alice"), "malformed", id="nul-in-sub"),
]


@pytest.mark.parametrize(("spoil", "reason"), BAD_TOKENS)
def test_an_id_token_that_fails_a_check_is_refused(
    sso: Collector,
    provider: Provider,
    log: pytest.LogCaptureFixture,
    spoil: Callable[[Provider], None],
    reason: str,
) -> None:
    spoil(provider)

    answer = sign_in(sso)

    assert_refused(sso, answer, 401, oidc.NOT_VERIFIED)
    assert provider.token_answers == [200]
    assert "OIDC sign-in refused" in log.text and reason in log.text
    assert admin_api(sso, "GET", "/api/v1/accounts").json() == []


BAD_IDENTITIES = [
    pytest.param({"email_verified": False}, oidc.NO_EMAIL, "not verified", id="unverified"),
    pytest.param({"email": None}, oidc.NO_EMAIL, "no email", id="no-email"),
    pytest.param(
        {"email": "mallory@example.org"}, oidc.WRONG_DOMAIN, "not allowed", id="other-domain"
    ),
    pytest.param(
        {"email": "mallory@evil.example.com"}, oidc.WRONG_DOMAIN, "not allowed", id="subdomain"
    ),
    # Control characters: a NUL is refused by PostgreSQL, an escape would colour the log.
    pytest.param({"email": "al\x00ice@example.com"}, oidc.NO_EMAIL, "no email", id="nul-email"),
    pytest.param(
        {"email": "al\x1b[2Jice@example.com"}, oidc.NO_EMAIL, "no email", id="escape-in-email"
    ),
]


@pytest.mark.parametrize(("claims", "message", "reason"), BAD_IDENTITIES)
def test_an_identity_without_a_verified_email_of_an_allowed_domain_is_refused(
    sso: Collector,
    provider: Provider,
    log: pytest.LogCaptureFixture,
    claims: dict[str, Any],
    message: str,
    reason: str,
) -> None:
    provider.claims = claims

    answer = sign_in(sso)

    assert_refused(sso, answer, 401, message)
    assert reason in log.text
    assert admin_api(sso, "GET", "/api/v1/accounts").json() == []


@pytest.mark.parametrize("where", ["closed-port", "issuer-mismatch"])
def test_an_idp_that_cannot_be_used_is_a_4xx_not_a_500(
    db_url: str, serve_app: Callable[..., Collector], provider: Provider, where: str
) -> None:
    issuer = f"http://127.0.0.1:{free_port()}" if where == "closed-port" else provider.issuer + "/"
    collector = serve_app(db_url, oidc=settings_for(provider, issuer=issuer))

    answer = sign_in(collector)

    assert_refused(collector, answer, 401, oidc.UNAVAILABLE)


@pytest.mark.parametrize(
    "field", ["id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported"]
)
def test_a_discovery_document_with_a_number_for_a_list_falls_back_to_the_defaults(
    sqlite_url: str,
    serve_app: Callable[..., Collector],
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
) -> None:
    listed = Provider.discovery
    monkeypatch.setattr(Provider, "discovery", lambda self: {**listed(self), field: 5})
    collector = serve_app(sqlite_url, oidc=settings_for(provider))

    answer = sign_in(collector)

    # No list: the defaults of OpenID Connect Discovery 1.0, 3 (RS256, client_secret_basic).
    assert answer.status_code == 200, answer.text
    assert provider.client_auth_seen == ["basic"]


# -- what the log holds -------------------------------------------------------------------


def test_the_log_never_holds_the_code_a_token_or_the_client_secret(
    start_collector: Callable[..., CollectorProcess],
    db_url: str,
    provider: Provider,
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "oidc-client-secret"
    secret_file.write_text(provider.secret + "\n", encoding="utf-8")
    env = {
        "SHADOWMAP_OIDC_ISSUER": provider.issuer,
        "SHADOWMAP_OIDC_CLIENT_ID": provider.client_id,
        "SHADOWMAP_OIDC_ALLOWED_DOMAINS": "example.com",
        "SHADOWMAP_OIDC_ADMIN_GROUPS": ADMINS,
        "SHADOWMAP_LOGLEVEL": "DEBUG",
    }
    running = start_collector(
        "--db", db_url, "--oidc-client-secret-file", str(secret_file), env=env
    )
    collector = running.collector

    callback = to_callback(collector)
    pending = collector.http.cookies.get(auth.PENDING_COOKIE)
    signed_in = collector.http.get(callback, timeout=10)
    replay = Collector(collector.base_url)
    replay.http.cookies.set(auth.PENDING_COOKIE, pending, path=START)
    replayed = replay.http.get(callback, timeout=10)
    provider.signer = unsigned
    forged = sign_in(Collector(collector.base_url))
    output = running.output()

    assert (signed_in.status_code, replayed.status_code, forged.status_code) == (200, 401, 401)
    assert "signed in alice@example.com by OIDC as viewer" in output
    assert "refused the code: HTTP 400, invalid_grant" in output
    assert "OIDC sign-in refused: the ID token's algorithm none is refused" in output
    assert f"{CALLBACK}?[hidden]" in output
    assert len(provider.codes) == 2 and len(provider.issued_tokens) == 2
    for value in (provider.secret, *provider.codes, *provider.issued_tokens):
        assert value not in output


# -- settings -----------------------------------------------------------------------------


def _oidc_env(**values: str) -> dict[str, str]:
    base = {
        "SHADOWMAP_OIDC_ISSUER": "https://example.okta.com/oauth2/default",
        "SHADOWMAP_OIDC_CLIENT_ID": "0oa1b2c3d4",
        "SHADOWMAP_OIDC_CLIENT_SECRET": SECRET,
    }
    return {k: v for k, v in {**base, **values}.items() if v}


SECRET = client_secret()


def test_oidc_settings_from_the_environment() -> None:
    env = _oidc_env(
        SHADOWMAP_OIDC_NAME="Okta",
        SHADOWMAP_OIDC_ALLOWED_DOMAINS="Example.com, @example.org",
        SHADOWMAP_OIDC_ADMIN_GROUPS="Shadowmap Admins,sec-team",
        SHADOWMAP_OIDC_GROUPS_CLAIM="roles",
        SHADOWMAP_OIDC_SCOPES="openid email groups",
        SHADOWMAP_OIDC_REDIRECT_BASE="https://collector.example.com/",
        SHADOWMAP_OIDC_TOKEN_AUTH="client_secret_post",
    )

    settings = oidc_settings(env, None)

    assert settings is not None
    assert settings.allowed_domains == {"example.com", "example.org"}
    assert settings.admin_groups == {"Shadowmap Admins", "sec-team"}
    assert settings.scopes == ("openid", "email", "groups")
    assert settings.redirect_base == "https://collector.example.com"
    assert (settings.groups_claim, settings.token_auth) == ("roles", TokenAuth.POST)
    assert SECRET not in repr(settings)
    assert oidc_settings({}, None) is None


def test_the_client_secret_comes_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")

    settings = oidc_settings(_oidc_env(SHADOWMAP_OIDC_CLIENT_SECRET=""), path)

    assert settings is not None and settings.client_secret == SECRET


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"SHADOWMAP_OIDC_CLIENT_ID": ""}, "SHADOWMAP_OIDC_CLIENT_ID is not set"),
        ({"SHADOWMAP_OIDC_ISSUER": ""}, "SHADOWMAP_OIDC_ISSUER is not set"),
        ({"SHADOWMAP_OIDC_ISSUER": "http://idp.example.com"}, "not an https URL"),
        ({"SHADOWMAP_OIDC_ISSUER": "https://idp.example.com/?tenant=1"}, "query"),
        ({"SHADOWMAP_OIDC_CLIENT_SECRET": ""}, "no OIDC client secret"),
        ({"SHADOWMAP_OIDC_CLIENT_SECRET": "changeme-changeme"}, "placeholder"),
        ({"SHADOWMAP_OIDC_ALLOWED_DOMAINS": "example.com,not a domain"}, "not domain names"),
        ({"SHADOWMAP_OIDC_SCOPES": "email profile"}, "must list openid"),
        ({"SHADOWMAP_OIDC_TOKEN_AUTH": "private_key_jwt"}, "not a known method"),
        ({"SHADOWMAP_OIDC_REDIRECT_BASE": "collector.example.com"}, "not an https URL"),
    ],
)
def test_bad_oidc_settings_are_config_errors_that_never_show_the_secret(
    changes: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match="OIDC|https|domain|openid|method") as raised:
        oidc_settings(_oidc_env(**changes), None)

    assert problem in raised.value.message
    assert SECRET not in raised.value.message + (raised.value.hint or "")


def test_oidc_settings_without_an_issuer_are_refused() -> None:
    with pytest.raises(ConfigError, match="SHADOWMAP_OIDC_ADMIN_GROUPS set, but OIDC"):
        oidc_settings({"SHADOWMAP_OIDC_ADMIN_GROUPS": "admins"}, None)


def test_serve_refuses_bad_oidc_settings_without_a_traceback(
    run_serve: Callable[..., Any], sqlite_url: str
) -> None:
    result = run_serve(
        "--db",
        sqlite_url,
        SHADOWMAP_OIDC_ISSUER="http://idp.example.com",
        SHADOWMAP_OIDC_CLIENT_ID="collector",
        SHADOWMAP_OIDC_CLIENT_SECRET=SECRET,
    )

    assert result.returncode == 2
    assert "SHADOWMAP_OIDC_ISSUER is not an https URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr
