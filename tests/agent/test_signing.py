"""Signed signature packs: publish, pull, and refuse a tampered pack, a wrong key, an older
serial or a pack that fails its schema; end to end through a collector on loopback."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from shadowmap.agent import signing
from shadowmap.agent.errors import SignatureError
from shadowmap.signatures import BUILTIN_DIR
from tests.agent.test_daemon import Agent, Collector, free_port, titles, wait_for

CURSOR = "MCP server notion in Cursor (user)"
RENAMED = "MCP server notion in Cursor, signed (user)"


@pytest.fixture
def key(tmp_path) -> tuple[object, str]:
    path = tmp_path / "signing.pem"
    signing.generate_key(path)
    private = signing.load_private_key(path)
    return private, signing.public_key_text(private)


@pytest.fixture
def renamed_pack(tmp_path) -> Path:
    """The built-in pack with Cursor renamed, so a scan shows which pack it used."""
    folder = tmp_path / "pack"
    shutil.copytree(BUILTIN_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    clients = folder / "mcp_clients.yaml"
    clients.write_text(clients.read_text().replace("name: Cursor\n", "name: Cursor, signed\n", 1))
    return folder


def envelope_bytes(pack: Path, private, serial: int) -> bytes:
    return json.dumps(signing.sign_pack(pack, private, serial, "test")).encode()


def test_a_signed_pack_verifies_and_installs(tmp_path, key, renamed_pack):
    private, public = key
    state = tmp_path / "state"
    payload = signing.install(state, envelope_bytes(renamed_pack, private, 5), public)
    assert payload.serial == 5 and "mcp_clients.yaml" in payload.files
    pack = signing.active_pack(state, public)
    assert pack is not None and pack.version.startswith("signed-5-")
    assert any(c.name == "Cursor, signed" for c in pack.mcp_clients)


def tampered(raw: bytes) -> bytes:
    envelope = json.loads(raw)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["files"]["secrets.yaml"] += "\n# one more line\n"
    envelope["payload"] = base64.b64encode(json.dumps(payload, sort_keys=True).encode()).decode()
    return json.dumps(envelope).encode()


def test_tampered_and_wrongly_signed_packs_are_refused(tmp_path, key, renamed_pack):
    private, public = key
    raw = envelope_bytes(renamed_pack, private, 5)
    with pytest.raises(SignatureError, match="does not match the pinned key"):
        signing.install(tmp_path, tampered(raw), public)
    other = tmp_path / "other.pem"
    signing.generate_key(other)
    wrong = signing.public_key_text(signing.load_private_key(other))
    with pytest.raises(SignatureError, match="does not match the pinned key"):
        signing.install(tmp_path, raw, wrong)
    with pytest.raises(SignatureError, match="not a signature pack"):
        signing.install(tmp_path, b"{}", public)
    assert signing.active_pack(tmp_path, public) is None  # nothing installed: built-in


def test_an_older_serial_and_a_schema_failure_are_refused(tmp_path, key, renamed_pack):
    private, public = key
    signing.install(tmp_path, envelope_bytes(renamed_pack, private, 5), public)
    with pytest.raises(SignatureError, match="not newer"):
        signing.install(tmp_path, envelope_bytes(renamed_pack, private, 4), public)

    broken = json.loads(envelope_bytes(renamed_pack, private, 9))
    payload = json.loads(base64.b64decode(broken["payload"]))
    payload["files"]["vendors.yaml"] = "schema_version: 1\nvendors: [{id: 7}]\n"
    raw = json.dumps(payload, sort_keys=True).encode()
    broken["payload"] = base64.b64encode(raw).decode()
    broken["signature"] = base64.b64encode(private.sign(raw)).decode()  # signed, but bad
    with pytest.raises(SignatureError, match="vendors.yaml"):
        signing.install(tmp_path, json.dumps(broken).encode(), public)
    assert signing.active_pack(tmp_path, public).version.startswith("signed-5-")


def test_a_broken_pack_is_never_signed(tmp_path, key, renamed_pack):
    (renamed_pack / "apps.yaml").write_text("schema_version: 1\napps: 3\n")
    with pytest.raises(SignatureError):
        signing.sign_pack(renamed_pack, key[0], 1, "x")


def test_pack_file_names_cannot_leave_the_pack_folder(tmp_path, key, renamed_pack):
    private, public = key
    envelope = json.loads(envelope_bytes(renamed_pack, private, 5))
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["files"]["../../etc/evil.yaml"] = "x"
    raw = json.dumps(payload, sort_keys=True).encode()
    envelope.update(
        payload=base64.b64encode(raw).decode(),
        signature=base64.b64encode(private.sign(raw)).decode(),
    )
    with pytest.raises(SignatureError, match="malformed"):
        signing.install(tmp_path, json.dumps(envelope).encode(), public)


def run_agent_with_pack(tmp_path, make_tree, monkeypatch, pack_file: Path, public: str):
    from tests.agent.test_daemon import NOTION

    home = make_tree("home", {".cursor/mcp.json": json.dumps({"mcpServers": NOTION})})
    collector = Collector(
        f"http://127.0.0.1:{free_port()}", tmp_path / "c.sqlite", tmp_path / "c.log"
    )
    monkeypatch.setenv("SHADOWMAP_SIGNATURE_PACK", str(pack_file))  # the collector's
    collector.start()
    state = tmp_path / "agent-state"
    state.mkdir()
    agent = Agent(
        collector, home, state, tmp_path / "agent.out", settings={"signature_public_key": public}
    )
    try:
        agent.start()
        log = state / "agent.log"
        wait_for(
            "a signature pull",
            lambda: log.exists() and "signature pack:" in log.read_text(),
            log=agent.log,
        )
        wait_for(
            "the notion finding", lambda: any("notion" in t for t in titles(collector)), log=log
        )
        if "signature pack: installed" in log.read_text():
            wait_for("a rescan with it", lambda: RENAMED in titles(collector), log=log)
        return titles(collector), log
    finally:
        agent.stop()
        collector.stop()


def test_the_agent_pulls_a_published_pack_and_scans_with_it(
    tmp_path, make_tree, shadowmap, renamed_pack, monkeypatch
):
    pack_file, key_file = tmp_path / "pack.json", tmp_path / "signing.pem"
    run = shadowmap(
        "collector",
        "publish-signatures",
        "--signing-key",
        str(key_file),
        "--new-key",
        "--pack-dir",
        str(renamed_pack),
        "--serial",
        "7",
        "--output",
        str(pack_file),
    )
    assert run.code == 0, run.stderr
    public = run.stdout.split('signature_public_key = "')[1].split('"')[0]
    found, log = run_agent_with_pack(tmp_path, make_tree, monkeypatch, pack_file, public)
    assert RENAMED in found and CURSOR not in found
    assert "signature pack: installed" in log.read_text()


@pytest.mark.parametrize("problem", ["tampered", "wrong key"])
def test_a_bad_published_pack_leaves_the_built_in_one(
    tmp_path, make_tree, key, renamed_pack, problem, monkeypatch
):
    private, public = key
    raw = envelope_bytes(renamed_pack, private, 7)
    pack_file = tmp_path / "pack.json"
    pack_file.write_bytes(tampered(raw) if problem == "tampered" else raw)
    if problem == "wrong key":
        other = tmp_path / "other.pem"
        signing.generate_key(other)
        public = signing.public_key_text(signing.load_private_key(other))
    found, log = run_agent_with_pack(tmp_path, make_tree, monkeypatch, pack_file, public)
    assert CURSOR in found and RENAMED not in found
    assert "signature pack: refused" in log.read_text()
    assert "does not match the pinned key" in log.read_text()
