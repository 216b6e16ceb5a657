"""The signature pack: valid against its schemas, sourced, and each key kind tested."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shadowmap.agent.errors import SignatureError
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.signatures import BUILTIN_DIR, builtin_pack, load_pack
from tests import fakekeys


def test_builtin_pack_loads_and_every_entry_names_its_source():
    pack = builtin_pack()
    entries = [*pack.apps, *pack.mcp_clients, *pack.secrets, *pack.vendors.values()]
    assert all(len(e.source) > 3 for e in entries)
    assert {c.id for c in pack.mcp_clients} >= {
        "claude-desktop",
        "claude-code",
        "cursor",
        "vscode",
        "windsurf",
    }
    assert len(pack.apps) >= 10
    assert {s.vendor for s in pack.secrets} >= {
        "openai",
        "anthropic",
        "google",
        "huggingface",
        "github",
    }


# Clients that exist on one OS only (Visual Studio is a Windows IDE).
ONE_OS_CLIENTS = {"visual-studio": "windows"}


def test_every_mcp_client_has_paths_for_each_os():
    for client in builtin_pack().mcp_clients:
        for os_name in ("linux", "macos", "windows"):
            if ONE_OS_CLIENTS.get(client.id, os_name) != os_name:
                continue
            assert any(c.paths.for_os(os_name) for c in client.configs), (client.id, os_name)


def _broken_copy(tmp_path: Path, stem: str, mutate) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(BUILTIN_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    data = yaml.safe_load((target / f"{stem}.yaml").read_text())
    mutate(data)
    (target / f"{stem}.yaml").write_text(yaml.safe_dump(data))
    return target


@pytest.mark.parametrize(
    "stem, mutate, message",
    [
        ("apps", lambda d: d["apps"][0].pop("source"), "'source' is a required property"),
        ("secrets", lambda d: d["secrets"][0].update(pattern="(unclosed"), "bad pattern"),
        (
            "mcp_clients",
            lambda d: d["clients"][0]["configs"][0].update(format="ini"),
            "is not one of",
        ),
        ("apps", lambda d: d["apps"][1].update(id=d["apps"][0]["id"]), "duplicate ids"),
        (
            "secrets",
            lambda d: d["secrets"][0].update(vendor="nobody"),
            "vendors not in vendors.yaml",
        ),
    ],
)
def test_a_broken_pack_is_refused(tmp_path, stem, mutate, message):
    with pytest.raises(SignatureError, match=message):
        load_pack(_broken_copy(tmp_path, stem, mutate))


# One row per kind: a value that must be flagged, in a realistic line.
SHOULD_FLAG = [
    ("openai-legacy-key", lambda: f"OPENAI_API_KEY={fakekeys.openai_legacy()}"),
    ("openai-project-key", lambda: f'client = OpenAI(api_key="{fakekeys.openai_project()}")'),
    ("anthropic-api-key", lambda: f'"ANTHROPIC_API_KEY": "{fakekeys.anthropic()}"'),
    ("google-api-key", lambda: f"const key = '{fakekeys.google()}';"),
    ("huggingface-token", lambda: f'login(token=\\"{fakekeys.huggingface()}\\")'),
    ("github-token", lambda: f"GITHUB_TOKEN={fakekeys.github_classic()}"),
    ("github-fine-grained-pat", lambda: f"Authorization: Bearer {fakekeys.github_fine_grained()}"),
]
# Look-alikes that are not credentials.
SHOULD_NOT_FLAG = [
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GITHUB_TOKEN=" + "ghp_" + "X" * 36,
    "GOOGLE_API_KEY=" + "AIza" + "Sy" + "abcdefghijklmnopqrstuvwxyz1234567",
    "token = os.environ['HF_TOKEN']",
    "from huggingface_hub import hf_hub_download",
    "key: ${{ secrets.OPENAI_API_KEY }}",
    "prefix_" + fakekeys.huggingface(),  # part of a longer identifier
]


@pytest.mark.parametrize("kind, line", SHOULD_FLAG, ids=[k for k, _ in SHOULD_FLAG])
def test_each_kind_is_flagged(kind, line):
    matches = list(SecretEngine(builtin_pack()).find("x = 1\n" + line() + "\n"))
    assert [m.signature.id for m in matches] == [kind]
    assert matches[0].line == 2


@pytest.mark.parametrize("line", SHOULD_NOT_FLAG)
def test_look_alikes_are_not_flagged(line):
    assert list(SecretEngine(builtin_pack()).find(line)) == []


def test_every_secret_kind_has_a_should_flag_row():
    assert {s.id for s in builtin_pack().secrets} - {k for k, _ in SHOULD_FLAG} <= {
        "anthropic-admin-key",
        "anthropic-oauth-token",
        "gemini-api-key",
        "huggingface-org-token",
    }


def test_signature_docs_are_generated_from_the_data():
    from shadowmap.signatures import docs

    committed = (Path(__file__).parents[2] / "docs" / "signatures.md").read_text(encoding="utf-8")
    assert committed == docs.render(), "run: python -m shadowmap.signatures.docs > docs/signatures.md"
