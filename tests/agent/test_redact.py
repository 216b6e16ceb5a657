"""Redaction and keyed hashes: what is kept of a credential, and that it is not the value."""

from __future__ import annotations

from shadowmap.agent.redact import FingerprintKey, local_key, preview
from tests import fakekeys


def test_preview_keeps_public_prefix_and_last_four_only():
    value = fakekeys.openai_project()
    shown = preview(value, "sk-proj-")
    assert shown == "sk-proj-…" + value[-4:]
    assert value[8:-4] not in shown


def test_preview_without_prefix_and_for_short_values():
    assert preview("Zq8wLm3nRt5vXy2k", None) == "…Xy2k"
    assert preview("short1", None) == "…"
    assert preview("ghp_abc", "ghp_") == "ghp_…"


def test_value_hash_is_keyed():
    value = fakekeys.github_classic()
    one = FingerprintKey(b"1" * 32, "a")
    two = FingerprintKey(b"2" * 32, "b")
    assert one.value_hash(value) == one.value_hash(value)
    assert one.value_hash(value) != two.value_hash(value)
    assert value not in one.value_hash(value) and "1" * 32 not in repr(one)


def test_local_key_is_made_once_and_private(tmp_path):
    first = local_key(tmp_path)
    second = local_key(tmp_path)
    assert first == second and first.scope.startswith("local:")
    assert (tmp_path / "fingerprint.key").stat().st_mode & 0o077 == 0
