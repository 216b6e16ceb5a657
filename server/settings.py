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
from ipaddress import ip_address
from pathlib import Path

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

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


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
    )


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
    what: str, env_name: str, option: str, path: Path | None, env: Mapping[str, str]
) -> str:
    value = _read_secret_file(what, path, option) if path else env.get(env_name, "").strip()
    where = str(path) if path else env_name
    if not value:
        raise ConfigError(
            f"no {what} is set", hint=f"set {env_name} or pass {option}; {GENERATE_HINT}"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the {what} from {where} is shorter than {MIN_SECRET_LENGTH} characters",
            hint=GENERATE_HINT,
        )
    if is_placeholder(value):
        raise ConfigError(f"the {what} from {where} is a placeholder", hint=GENERATE_HINT)
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
