"""Signed signature packs: `collector publish-signatures` signs one, the agent pulls and checks it.

Ed25519 over the exact payload bytes (RFC 8032). The agent takes a pack only if it is newer,
its signature matches the key pinned in agent.toml and it passes the schema; otherwise it
keeps what it had, and at worst the built-in pack. Never runs anything from a pack.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmap.agent.errors import ConfigError, SignatureError

if TYPE_CHECKING:
    from shadowmap.agent.config import AgentConfig
    from shadowmap.signatures import SignaturePack

logger = logging.getLogger(__name__)

FORMAT = "shadowmap-signature-pack/1"
# Inside the state folder: the installed envelope and what it is.
PACKS_DIR = "signatures"
ENVELOPE_FILE = "pack.json"
# A pack file is a plain YAML name, never a path (no traversal out of the pack folder).
PACK_FILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}\.yaml$")
# Far above the built-in pack (~200 KB); refuses a flood before it is parsed.
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Payload:
    serial: int  # only a higher serial replaces an installed pack (no rollback)
    label: str
    created_at: str
    files: dict[str, str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(public_raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_raw).hexdigest()[:16]


def load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def generate_key(path: Path) -> None:
    """A new Ed25519 private key, PEM, mode 0600; refuses to overwrite one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists", hint="sign with it, or name a new file") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def public_key_text(private: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _b64(raw)


def sign_pack(pack_dir: Path, private: Any, serial: int | None, label: str) -> dict[str, Any]:
    """The envelope for the pack in ``pack_dir``; the pack must pass its schema first."""
    from shadowmap.signatures import load_pack

    load_pack(pack_dir)  # SignatureError: a broken pack is never signed
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(pack_dir.glob("*.yaml"))}
    payload = {
        "serial": serial if serial is not None else int(time.time()),
        "label": label,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
    }
    raw = json.dumps(payload, sort_keys=True).encode("utf-8")
    public = base64.b64decode(public_key_text(private))
    return {
        "format": FORMAT,
        "key_id": key_id(public),
        "payload": _b64(raw),
        "signature": _b64(private.sign(raw)),
    }


def verify(envelope_bytes: bytes, public_key_b64: str) -> Payload:
    """The payload, if the envelope is ours and signed by the pinned key; else SignatureError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        envelope = json.loads(envelope_bytes)
        raw = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"not a signature pack envelope ({type(exc).__name__})") from None
    if envelope.get("format") != FORMAT:
        raise SignatureError(f"unknown pack format {envelope.get('format')!r}")
    try:
        public.verify(signature, raw)
    except InvalidSignature:
        raise SignatureError("the pack's signature does not match the pinned key") from None
    return _payload(json.loads(raw))


def _payload(data: dict[str, Any]) -> Payload:
    files = data.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and PACK_FILE_NAME.match(k) and isinstance(v, str)
        for k, v in files.items()
    ):
        raise SignatureError("the pack's file list is malformed")
    return Payload(int(data["serial"]), str(data.get("label", "")), str(data["created_at"]), files)


def _unpacked(payload: Payload, where: Path) -> SignaturePack:
    """Writes the files to ``where`` and loads them there: the schema check."""
    from shadowmap.signatures import load_pack

    where.mkdir(parents=True, exist_ok=True)
    for name, text in payload.files.items():
        (where / name).write_text(text, encoding="utf-8")
    pack = load_pack(where)
    return replace(pack, version=f"signed-{payload.serial}-{pack.version.split('-')[-1]}")


def active_pack(state_dir: Path, public_key_b64: str | None) -> SignaturePack | None:
    """The installed pulled pack, checked again (signature and schema); None: use built-in."""
    envelope = state_dir / PACKS_DIR / ENVELOPE_FILE
    if not public_key_b64 or not envelope.is_file():
        return None
    try:
        payload = verify(envelope.read_bytes(), public_key_b64)
        with tempfile.TemporaryDirectory(dir=state_dir) as tmp:
            return _unpacked(payload, Path(tmp))
    except (SignatureError, OSError, ValueError, KeyError) as exc:
        logger.warning("installed signature pack refused (%s); using the built-in one", exc)
        return None


def installed_serial(state_dir: Path, public_key_b64: str) -> int:
    envelope = state_dir / PACKS_DIR / ENVELOPE_FILE
    try:
        return verify(envelope.read_bytes(), public_key_b64).serial
    except (OSError, SignatureError, ValueError, KeyError):
        return 0


def install(state_dir: Path, envelope_bytes: bytes, public_key_b64: str) -> Payload:
    """Check a pulled envelope (size, signature, newer, schema), then install it atomically."""
    if len(envelope_bytes) > MAX_ENVELOPE_BYTES:
        raise SignatureError(f"the pack is over {MAX_ENVELOPE_BYTES} bytes")
    payload = verify(envelope_bytes, public_key_b64)
    current = installed_serial(state_dir, public_key_b64)
    if payload.serial <= current:
        raise SignatureError(f"pack serial {payload.serial} is not newer than {current}")
    folder = state_dir / PACKS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=state_dir) as tmp:
        _unpacked(payload, Path(tmp))
    partial = folder / (ENVELOPE_FILE + ".tmp")
    partial.write_bytes(envelope_bytes)
    os.replace(partial, folder / ENVELOPE_FILE)
    return payload


def pull_pack(config: AgentConfig, state_dir: Path, token: str) -> dict[str, Any]:
    """Ask the collector for its published pack and install it if it checks out."""
    from shadowmap.agent.client import CollectorClient

    if not config.signature_public_key:
        return {"status": "disabled"}
    answer = CollectorClient(config.collector, config.ca_file).get_signatures(token, None)
    if answer.status == 401:
        return {"status": "node_invalid"}
    if answer.status != 200:
        return {"status": "none" if answer.status == 404 else f"http {answer.status}"}
    try:
        offered = verify(answer.body, config.signature_public_key)
        current = installed_serial(state_dir, config.signature_public_key)
        if offered.serial <= current:
            return {"status": "current", "serial": current}
        payload = install(state_dir, answer.body, config.signature_public_key)
    except SignatureError as exc:
        logger.warning("pulled signature pack not used: %s", exc.message)
        return {"status": "refused", "reason": exc.message}
    logger.info("installed signature pack %s (serial %d)", payload.label, payload.serial)
    return {"status": "installed", "serial": payload.serial}


def publish(
    key_file: Path, new_key: bool, pack_dir: Path | None, serial: int | None, label: str,
    output: Path,
) -> str:  # fmt: skip
    """`collector publish-signatures`: sign the pack, write the file; says what to pin."""
    from shadowmap.signatures import BUILTIN_DIR

    if new_key:
        generate_key(key_file)
    private = load_private_key(key_file)
    envelope = sign_pack(pack_dir or BUILTIN_DIR, private, serial, label)
    partial = output.with_name(output.name + ".tmp")
    partial.write_text(json.dumps(envelope, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, output)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    return (
        f"signed pack serial {payload['serial']} ({len(payload['files'])} files) -> {output}\n"
        f"key id {envelope['key_id']}; pin it in agent.toml:\n"
        f'signature_public_key = "{public_key_text(private)}"\n'
        "serve it: SHADOWMAP_SIGNATURE_PACK=<file> shadowmap collector serve ...\n"
    )
