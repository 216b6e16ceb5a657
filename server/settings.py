"""The collector's settings, built once by ``load_settings`` from options and environment.

Refuses to start without real secrets; never built at import time, never logs a secret.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from shadowmap.agent.errors import ConfigError, UsageError
from shadowmap.server.people import DEFAULT_RULES, JoinRule, rules_from

logger = logging.getLogger(__name__)

# Where the secrets come from when no file option is given (docs/collector-api.md).
ENROLL_SECRET_ENV = "SHADOWMAP_ENROLL_SECRET"
ADMIN_TOKEN_ENV = "SHADOWMAP_ADMIN_TOKEN"
# OWASP ASVS 2.1 asks for at least 12 characters; a machine secret gets more.
MIN_SECRET_LENGTH = 16
# Values that sample configs and tutorials ship; compared with case and punctuation removed.
PLACEHOLDER_MARKERS = ("changeme", "changethis", "replaceme", "placeholder", "yoursecret")
PLACEHOLDER_WORDS = frozenset({"secret", "password", "token", "admin", "default", "test"})
# Fewer distinct characters than this is a typed pattern, not a random secret.
MIN_DISTINCT_CHARACTERS = 6
# The default database, inside the state folder (DESIGN.md, "The collector").
DEFAULT_DB_FILE = "collector.sqlite"
# The next steps that ConfigError and UsageError print (shadowmap.agent.cli.main).
LISTEN_HINT = "e.g. --listen 127.0.0.1:8443, --listen 0.0.0.0:8443 or --listen [::1]:8443"
GENERATE_HINT = "make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
# OIDC sign-in for the pages (docs/collector.md, "Pages, accounts and roles"); off unless
# the issuer and the client id are set.
OIDC_ENV_PREFIX = "SHADOWMAP_OIDC_"
OIDC_ISSUER_ENV = "SHADOWMAP_OIDC_ISSUER"
OIDC_CLIENT_ID_ENV = "SHADOWMAP_OIDC_CLIENT_ID"
OIDC_CLIENT_SECRET_ENV = "SHADOWMAP_OIDC_CLIENT_SECRET"
OIDC_SECRET_OPTION = "--oidc-client-secret-file"
OIDC_OPTIONAL_ENV = {
    "name": "SHADOWMAP_OIDC_NAME",
    "scopes": "SHADOWMAP_OIDC_SCOPES",
    "domains": "SHADOWMAP_OIDC_ALLOWED_DOMAINS",
    "groups_claim": "SHADOWMAP_OIDC_GROUPS_CLAIM",
    "admin_groups": "SHADOWMAP_OIDC_ADMIN_GROUPS",
    "redirect_base": "SHADOWMAP_OIDC_REDIRECT_BASE",
    "token_auth": "SHADOWMAP_OIDC_TOKEN_AUTH",
}
# OpenID Connect Core 1.0, 3.1.2.1: "openid" must be among the scopes; email carries the
# email claims (5.4).
OIDC_DEFAULT_SCOPES = ("openid", "email", "profile")
OIDC_DEFAULT_NAME = "SSO"
OIDC_SECRET_HINT = "copy the client secret from the app's page in the IdP's admin console"
OIDC_NAME_MAX = 40
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
CLAIM_NAME = re.compile(r"[A-Za-z0-9_:./-]{1,128}")


@dataclass(frozen=True)
class Settings:
    """Everything a collector process holds; the rest is in the database."""

    database_url: str
    enroll_secret: str = field(repr=False)
    admin_token: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # How devices are joined to people (people.py, SHADOWMAP_JOIN_RULES).
    join_rules: tuple[JoinRule, ...] = DEFAULT_RULES
    # OIDC sign-in for the pages, or None when it is off.
    oidc: OidcSettings | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


class TokenAuth(str, Enum):
    """How the collector authenticates to the token endpoint (RFC 6749 2.3.1)."""

    BASIC = "client_secret_basic"
    POST = "client_secret_post"


@dataclass(frozen=True)
class OidcSettings:
    """The IdP the pages' "Sign in with ..." button uses; the secret is never shown."""

    issuer: str  # exactly as the ID tokens' iss claim carries it
    client_id: str
    client_secret: str = field(repr=False)
    name: str = OIDC_DEFAULT_NAME
    scopes: tuple[str, ...] = OIDC_DEFAULT_SCOPES
    allowed_domains: frozenset[str] = frozenset()  # empty: every domain
    groups_claim: str = "groups"
    admin_groups: frozenset[str] = frozenset()
    redirect_base: str | None = None  # e.g. https://collector.example.com behind a proxy
    token_auth: TokenAuth | None = None  # None: what the discovery document offers


def load_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `collector serve`'s options; raises UsageError or ConfigError."""
    env = os.environ if environ is None else environ
    host, port = parse_listen(args.listen)
    tls_cert, tls_key = _tls_files(args.tls_cert, args.tls_key)
    enroll_secret = _secret(
        "enrol secret", ENROLL_SECRET_ENV, "--enroll-secret-file", args.enroll_secret_file, env
    )
    admin_token = _secret(
        "admin token", ADMIN_TOKEN_ENV, "--admin-token-file", args.admin_token_file, env
    )
    if enroll_secret == admin_token:
        raise ConfigError(
            "the enrol secret and the admin token are the same",
            hint="every device holds the enrol secret; give the admin token its own value",
        )
    return Settings(
        database_url=args.db or _default_database_url(args.state_dir),
        enroll_secret=enroll_secret,
        admin_token=admin_token,
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        join_rules=rules_from(env),
        oidc=oidc_settings(env, args.oidc_client_secret_file),
    )


def oidc_settings(env: Mapping[str, str], secret_file: Path | None) -> OidcSettings | None:
    """OIDC from SHADOWMAP_OIDC_*, or None when neither issuer nor client id is set."""
    issuer = env.get(OIDC_ISSUER_ENV, "").strip()
    client_id = env.get(OIDC_CLIENT_ID_ENV, "").strip()
    if not issuer and not client_id:
        _refuse_stray_oidc_settings(env, secret_file)
        return None
    if not issuer or not client_id:
        missing = OIDC_CLIENT_ID_ENV if issuer else OIDC_ISSUER_ENV
        raise ConfigError(
            f"OIDC sign-in is half set up: {missing} is not set",
            hint=f"set both {OIDC_ISSUER_ENV} and {OIDC_CLIENT_ID_ENV}, or neither",
        )
    secret = _secret(
        "OIDC client secret",
        OIDC_CLIENT_SECRET_ENV,
        OIDC_SECRET_OPTION,
        secret_file,
        env,
        hint=OIDC_SECRET_HINT,
    )
    return OidcSettings(
        issuer=web_url(OIDC_ISSUER_ENV, issuer),
        client_id=client_id,
        client_secret=secret,
        name=_oidc_name(env),
        scopes=_oidc_scopes(env),
        allowed_domains=_oidc_domains(env),
        groups_claim=_oidc_claim(env),
        admin_groups=frozenset(_listed(env, OIDC_OPTIONAL_ENV["admin_groups"])),
        redirect_base=_redirect_base(env),
        token_auth=_token_auth(env),
    )


def _refuse_stray_oidc_settings(env: Mapping[str, str], secret_file: Path | None) -> None:
    stray = sorted(
        name for name, value in env.items() if name.startswith(OIDC_ENV_PREFIX) and value.strip()
    )
    if secret_file is not None:
        stray.append(OIDC_SECRET_OPTION)
    if stray:
        raise ConfigError(
            f"{', '.join(stray)} set, but OIDC sign-in is off",
            hint=f"set {OIDC_ISSUER_ENV} and {OIDC_CLIENT_ID_ENV} to turn it on, or unset these",
        )


def is_web_url(value: str) -> bool:
    """An https URL, or http to a loopback address (a local test IdP), with a host."""
    parts = urlsplit(value)
    plain_ok = parts.scheme == "http" and is_loopback(parts.hostname or "")
    return (parts.scheme == "https" or plain_ok) and bool(parts.hostname)


def web_url(what: str, value: str) -> str:
    """An https URL (http only on loopback) with no query or fragment; else ConfigError."""
    if not is_web_url(value):
        raise ConfigError(
            f"{what} is not an https URL", hint="e.g. https://example.okta.com/oauth2/default"
        )
    parts = urlsplit(value)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{what} has a query, fragment or user part", hint="give the bare https URL"
        )
    return value


def _listed(env: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in env.get(name, "").split(",") if part.strip()]


def _oidc_name(env: Mapping[str, str]) -> str:
    name = env.get(OIDC_OPTIONAL_ENV["name"], "").strip() or OIDC_DEFAULT_NAME
    if len(name) > OIDC_NAME_MAX or not name.isprintable():
        raise ConfigError(
            f"{OIDC_OPTIONAL_ENV['name']} is longer than {OIDC_NAME_MAX} characters or not text",
            hint="use the IdP's short name, e.g. Okta",
        )
    return name


def _oidc_scopes(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get(OIDC_OPTIONAL_ENV["scopes"], "").replace(",", " ").split()
    if not raw:
        return OIDC_DEFAULT_SCOPES
    if "openid" not in raw or not all(CLAIM_NAME.fullmatch(scope) for scope in raw):
        raise ConfigError(
            f"{OIDC_OPTIONAL_ENV['scopes']} must list openid, and scopes only",
            hint="e.g. SHADOWMAP_OIDC_SCOPES='openid email profile groups'",
        )
    return tuple(dict.fromkeys(raw))


def _oidc_domains(env: Mapping[str, str]) -> frozenset[str]:
    name = OIDC_OPTIONAL_ENV["domains"]
    domains = [domain.lower().lstrip("@") for domain in _listed(env, name)]
    bad = [domain for domain in domains if not DOMAIN.fullmatch(domain)]
    if bad:
        raise ConfigError(
            f"{name} has {len(bad)} value(s) that are not domain names",
            hint=f"e.g. {name}=example.com,example.org",
        )
    return frozenset(domains)


def _oidc_claim(env: Mapping[str, str]) -> str:
    name = OIDC_OPTIONAL_ENV["groups_claim"]
    claim = env.get(name, "").strip() or "groups"
    if not CLAIM_NAME.fullmatch(claim):
        raise ConfigError(f"{name} is not a claim name", hint="e.g. groups or roles")
    return claim


def _redirect_base(env: Mapping[str, str]) -> str | None:
    name = OIDC_OPTIONAL_ENV["redirect_base"]
    value = env.get(name, "").strip()
    return web_url(name, value).rstrip("/") if value else None


def _token_auth(env: Mapping[str, str]) -> TokenAuth | None:
    name = OIDC_OPTIONAL_ENV["token_auth"]
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return TokenAuth(value)
    except ValueError:
        known = " or ".join(method.value for method in TokenAuth)
        raise ConfigError(f"{name} is not a known method", hint=f"use {known}") from None


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` as (host, port); a bad value is a UsageError."""
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
        valid = bool(sep) and _is_ipv6(host)
    else:
        host, sep, port_text = value.rpartition(":")
        valid = bool(sep) and bool(host) and ":" not in host
    if not valid or not re.fullmatch(r"[0-9]{1,5}", port_text):
        raise UsageError(f"--listen {value!r} is not HOST:PORT", hint=LISTEN_HINT)
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise UsageError(f"--listen port {port} is out of range", hint="use a port from 1 to 65535")
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ipv6(host: str) -> bool:
    try:
        return ip_address(host).version == 6
    except ValueError:
        return False


def _secret(
    what: str,
    env_name: str,
    option: str,
    path: Path | None,
    env: Mapping[str, str],
    hint: str = GENERATE_HINT,
) -> str:
    value = _read_secret_file(what, path, option) if path else env.get(env_name, "").strip()
    where = str(path) if path else env_name
    if not value:
        raise ConfigError(f"no {what} is set", hint=f"set {env_name} or pass {option}; {hint}")
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the {what} from {where} is shorter than {MIN_SECRET_LENGTH} characters", hint=hint
        )
    if is_placeholder(value):
        raise ConfigError(f"the {what} from {where} is a placeholder", hint=hint)
    return value


def _read_secret_file(what: str, path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"cannot read the {what} from {path}: {reason}", hint=f"check {option}"
        ) from None


def is_placeholder(value: str) -> bool:
    """True for sample values ("changeme", "secretsecret...") and typed patterns ("aaaa...")."""
    plain = re.sub(r"[^a-z0-9]", "", value.lower())
    if any(marker in plain for marker in PLACEHOLDER_MARKERS):
        return True
    repeated = re.fullmatch(r"(.+?)\1+", plain)
    if plain in PLACEHOLDER_WORDS or (repeated and repeated[1] in PLACEHOLDER_WORDS):
        return True
    return len(set(value)) < MIN_DISTINCT_CHARACTERS


def _tls_files(cert: Path | None, key: Path | None) -> tuple[Path | None, Path | None]:
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise UsageError("--tls-cert and --tls-key go together", hint="pass both, or neither")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate {cert} with key {key}: {exc}",
            hint="pass a PEM certificate chain and its unencrypted PEM private key",
        ) from None
    return cert, key


def database_url_from(args: argparse.Namespace) -> str:
    """--db, else the SQLite file in the state folder (as ``serve`` uses)."""
    return str(args.db) if args.db else _default_database_url(args.state_dir)


def _default_database_url(state_dir: Path | None) -> str:
    from shadowmap.agent.state import default_state_dir

    folder = state_dir or default_state_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the state folder {folder}: {exc.strerror}",
            hint="pass --state-dir DIR or --db URL",
        ) from None
    return f"sqlite:///{folder / DEFAULT_DB_FILE}"
