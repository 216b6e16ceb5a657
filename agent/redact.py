"""Redaction and keyed fingerprints: the only place a credential's value is handled.

A raw value goes in and only a preview, a length and an HMAC come out; nothing here
logs or stores a value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from shadowmap.agent.errors import ConfigError
from shadowmap.agent.models import SecretEvidence

logger = logging.getLogger(__name__)

# Where CI and other hosts without enrolment get the organisation's key (DESIGN.md).
FINGERPRINT_KEY_ENV = "SHADOWMAP_FINGERPRINT_KEY"
# The scope the collector gives its key ("org:<collector id>"), so CI hashes say whose
# they are; `shadowmap collector fingerprint-key` prints both.
FINGERPRINT_SCOPE_ENV = "SHADOWMAP_FINGERPRINT_SCOPE"
HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
LOCAL_KEY_FILE = "fingerprint.key"
# How many trailing characters a preview keeps (DESIGN.md, "Secrets never leave the device").
VISIBLE_TAIL = 4
# Values shorter than this show no tail at all, so a short secret is not half revealed.
MIN_LENGTH_FOR_TAIL = 12


@dataclass(frozen=True)
class FingerprintKey:
    """The HMAC key for value hashes, and whose it is (hashes compare within one scope)."""

    key: bytes
    scope: str

    def __repr__(self) -> str:  # never show the key itself
        return f"FingerprintKey(scope={self.scope!r})"

    def value_hash(self, value: str) -> str:
        digest = hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"


def key_from_env() -> FingerprintKey | None:
    raw = os.environ.get(FINGERPRINT_KEY_ENV)
    if raw is None:
        return None
    if len(raw) < 16:
        raise ConfigError(
            f"{FINGERPRINT_KEY_ENV} is shorter than 16 characters",
            hint="set it to the organisation's fingerprint key, as the collector hands out",
        )
    scope = os.environ.get(FINGERPRINT_SCOPE_ENV) or "env"
    # The collector's key is 32 bytes in hex; as the agent does at enrolment, use its bytes,
    # so a key in a repo and the same key on a laptop hash alike.
    key = bytes.fromhex(raw) if HEX_KEY.match(raw) else raw.encode("utf-8")
    return FingerprintKey(key, scope)


def local_key(state_dir: Path) -> FingerprintKey:
    """A random key kept in the state folder, so that local hashes match each other."""
    path = state_dir / LOCAL_KEY_FILE
    try:
        raw = path.read_text(encoding="ascii").strip()
        if len(raw) >= 32:
            return FingerprintKey(bytes.fromhex(raw), f"local:{raw[:8]}")
    except (OSError, ValueError):
        logger.debug("no usable local fingerprint key at %s; making one", path)
    raw = secrets.token_hex(32)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(raw)
    except OSError as exc:
        logger.warning("could not keep the local fingerprint key in %s: %s", state_dir, exc)
    return FingerprintKey(bytes.fromhex(raw), f"local:{raw[:8]}")


def preview(value: str, public_prefix: str | None) -> str:
    """The vendor's public prefix and the last four characters, nothing between."""
    prefix = public_prefix if public_prefix and value.startswith(public_prefix) else ""
    hidden_len = len(value) - len(prefix)
    if hidden_len < MIN_LENGTH_FOR_TAIL:
        return f"{prefix}…" if prefix else "…"
    return f"{prefix}…{value[-VISIBLE_TAIL:]}"


def secret_evidence(kind: str, value: str, public_prefix: str | None) -> SecretEvidence:
    return SecretEvidence(kind=kind, preview=preview(value, public_prefix), length=len(value))
