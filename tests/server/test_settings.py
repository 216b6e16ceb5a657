"""Settings: --listen parsing, placeholder secrets, and where the secrets come from."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from shadowmap.agent.errors import ConfigError, UsageError
from shadowmap.server.settings import is_placeholder, load_settings, parse_listen

# Made up for these tests: long, varied, no sample word.
GOOD_ENROLL = "Zb7-enrol-q2Lx9vT4mKp"
GOOD_ADMIN = "Zb7-admin-R8sW1nC5yHd"


def _args(**options: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "db": "sqlite:///unused.sqlite",
        "listen": "127.0.0.1:8443",
        "tls_cert": None,
        "tls_key": None,
        "enroll_secret_file": None,
        "admin_token_file": None,
        "oidc_client_secret_file": None,
        "state_dir": None,
    }
    return argparse.Namespace(**{**defaults, **options})


def _env(**values: str) -> dict[str, str]:
    return {"SHADOWMAP_ENROLL_SECRET": GOOD_ENROLL, "SHADOWMAP_ADMIN_TOKEN": GOOD_ADMIN, **values}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
        ("0.0.0.0:443", ("0.0.0.0", 443)),
        ("collector.internal:8080", ("collector.internal", 8080)),
        ("[::1]:8443", ("::1", 8443)),
        ("[::]:1", ("::", 1)),
    ],
)
def test_listen_values_that_parse(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    "value",
    ["8443", "127.0.0.1", "127.0.0.1:", ":8443", "::1:8443", "[::1]8443", "[nothost]:80",
     "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "[127.0.0.1]:80", ""],
)  # fmt: skip
def test_listen_values_that_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        parse_listen(value)


@pytest.mark.parametrize(
    "value",
    [
        "changemechangeme",
        "CHANGE-ME-CHANGE-ME!",
        "changethis-for-production",
        "secretsecretsecret",
        "password-password-",
        "aaaaaaaaaaaaaaaaaaaa",
        "abababababababababab",
        "replace_me_with_a_secret",
        "<placeholder-value-here>",
        "your-secret-goes-here",
    ],
)
def test_placeholders_are_flagged(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value", [GOOD_ENROLL, GOOD_ADMIN, "kM3v9Q-2rLx_8Tz4wPq1nB", "correct-horse-battery-staple-42"]
)
def test_real_secrets_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        pytest.param(_env(SHADOWMAP_ENROLL_SECRET=""), "no enrol secret", id="no-enrol-secret"),
        pytest.param(_env(SHADOWMAP_ADMIN_TOKEN=""), "no admin token", id="no-admin-token"),
        pytest.param(_env(SHADOWMAP_ENROLL_SECRET="Sh0rt-but-real"), "shorter", id="short"),
        pytest.param(_env(SHADOWMAP_ADMIN_TOKEN="changeme-changeme"), "placeholder", id="sample"),
        pytest.param(_env(SHADOWMAP_ADMIN_TOKEN=GOOD_ENROLL), "the same", id="same-values"),
    ],
)
def test_unusable_secrets_are_config_errors(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        load_settings(_args(), env)

    assert raised.value.hint


def test_secret_files_win_over_the_environment(tmp_path: Path) -> None:
    enroll_file, admin_file = tmp_path / "enroll", tmp_path / "admin"
    enroll_file.write_text("Fq8-file-enrol-Wx2Lm9\n", encoding="utf-8")
    admin_file.write_text("Fq8-file-admin-Pz7Kt3\n", encoding="utf-8")

    settings = load_settings(
        _args(enroll_secret_file=enroll_file, admin_token_file=admin_file), _env()
    )

    assert settings.enroll_secret == "Fq8-file-enrol-Wx2Lm9"
    assert settings.admin_token == "Fq8-file-admin-Pz7Kt3"
    assert "Fq8" not in repr(settings)


def test_a_missing_secret_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the enrol secret"):
        load_settings(_args(enroll_secret_file=tmp_path / "absent"), _env())


def test_the_default_database_is_a_sqlite_file_in_the_state_folder(tmp_path: Path) -> None:
    settings = load_settings(_args(db=None, state_dir=tmp_path / "state"), _env())

    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'collector.sqlite'}"
    assert (tmp_path / "state").is_dir()


def test_tls_options_go_together(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="go together"):
        load_settings(_args(tls_cert=tmp_path / "cert.pem"), _env())
