"""The one file pass that the secrets and browser-session detectors share: each file is
opened once a scan, each detector finds what it found alone, and fails alone."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from shadowmap.agent import repo, scan
from shadowmap.agent.context import make_context
from shadowmap.agent.detectors.browser_session import SessionTexts
from shadowmap.agent.detectors.secrets import SecretsDetector, SecretTexts
from shadowmap.agent.models import FindingKind, SourceId
from shadowmap.agent.redact import FingerprintKey
from shadowmap.signatures import builtin_pack
from tests import fakekeys
from tests.agent.repo_helpers import make_repo

TEXT_SOURCES = frozenset({SourceId.SECRETS, SourceId.BROWSER_SESSION})
# Files that hold both an AI key and a session token: a project's .env (both take it in
# the walk) and Copilot's hosts file (a known place for secrets, the walk for the other).
SHARED = ("src/app/.env", ".config/github-copilot/hosts.json")

# Counters of the test running now; the audit hook cannot be removed, so it idles after.
_COUNTING: list[Counter[str]] = []


def _count_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _COUNTING and isinstance(args[0], str | Path):
        _COUNTING[-1][str(args[0])] += 1


@pytest.fixture(scope="session")
def open_hook() -> None:
    sys.addaudithook(_count_opens)


@pytest.fixture
def opens(open_hook: None) -> Iterator[Counter[str]]:
    """How often this process opens each path while the test runs (the audit event that
    every open() raises: real reads of real files, nothing replaced)."""
    counter: Counter[str] = Counter()
    _COUNTING.append(counter)
    yield counter
    _COUNTING.remove(counter)


def both(seed: int) -> str:
    """An AI key and a claude.ai session key (a session token the secrets engine leaves
    to the browser-session detector), built from pieces."""
    key = fakekeys.openai_project(seed=seed)
    token = "sk-ant-" + "sid01-" + fakekeys.chunk(86, seed)
    return f"OPENAI_API_KEY={key}\nCLAUDE_SESSION_KEY={token}\n"


@pytest.fixture
def home(make_tree) -> Path:
    return make_tree("home", {SHARED[0]: both(1), SHARED[1]: '{"x": "' + both(2) + '"}'})


def context(home: Path, root: Path):
    key = FingerprintKey(b"k" * 32, "test")
    return make_context(
        home=home, root=root, os_name=None, live=False, key=key, signatures=builtin_pack()
    )


def kinds_at(findings, rel: str) -> list[str]:
    return sorted(f.kind.value for f in findings if f.location and f.location.path.endswith(rel))


def test_a_file_with_a_key_and_a_session_token_is_opened_once_a_scan(home, make_tree, opens):
    report = scan.scan_machine([context(home, make_tree("root", {}))], TEXT_SOURCES)

    for rel in SHARED:
        assert kinds_at(report.findings, rel) == ["browser_session", "secret"], rel
        assert opens[str(home / rel)] == 1, rel
    assert set(report.sources) == TEXT_SOURCES


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (SourceId.SECRETS, FindingKind.SECRET),
        (SourceId.BROWSER_SESSION, FindingKind.BROWSER_SESSION),
    ],
)
def test_one_source_alone_reads_for_itself(home, make_tree, opens, source, kind):
    report = scan.scan_machine([context(home, make_tree("root", {}))], frozenset({source}))

    for rel in SHARED:
        assert kinds_at(report.findings, rel) == [kind.value], rel
        assert opens[str(home / rel)] == 1, rel


def test_a_detector_run_without_a_scan_reads_alone(home, make_tree):
    ctx = context(home, make_tree("root", {}))
    out = SecretsDetector().run(ctx, frozenset({SourceId.SECRETS}))
    again = SecretsDetector().run(ctx, frozenset({SourceId.SECRETS}))

    assert [f.id for f in out.findings] == [f.id for f in again.findings]
    assert {f.kind for f in out.findings} == {FindingKind.SECRET}


@pytest.mark.parametrize(
    ("broken", "failed", "kept"),
    [
        (SessionTexts, "browser_session", FindingKind.SECRET),
        (SecretTexts, "secrets", FindingKind.BROWSER_SESSION),
    ],
)
def test_a_reader_that_breaks_fails_its_own_detector_only(
    home, make_tree, monkeypatch, broken, failed, kept
):
    def read(self, path, text):
        raise KeyError("a bug")

    monkeypatch.setattr(broken, "read", read)
    report = scan.scan_machine([context(home, make_tree("root", {}))], TEXT_SOURCES)

    assert [w.message for w in report.warnings] == [f"detector {failed} failed (KeyError)"]
    assert [s.value for s in report.sources] == sorted(TEXT_SOURCES - {SourceId(failed)})
    assert {f.kind for f in report.findings} == {kept}


def test_each_reader_keeps_its_own_size_bound(make_tree, opens):
    """Over the browser-session bound (1 MB), under the secrets one (5 MB): one read,
    a key found, no session token."""
    home = make_tree("home", {".bash_profile": "x=1\n" * 300_000 + both(3)})
    opens.clear()  # the writes above
    report = scan.scan_machine([context(home, make_tree("root", {}))], TEXT_SOURCES)

    assert kinds_at(report.findings, ".bash_profile") == ["secret"]
    assert opens[str(home / ".bash_profile")] == 1
    assert report.warnings == []


def test_scan_repo_decodes_a_blob_once_for_both_scans(tmp_path, monkeypatch):
    decoded: list[int] = []
    real = repo.as_text

    def counted(data: bytes) -> str:
        decoded.append(len(data))
        return real(data)

    monkeypatch.setenv("SHADOWMAP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(repo, "as_text", counted)
    git = make_repo(tmp_path / "repo")
    git.write("bot/.env", both(4))
    first = git.commit("add the bot")
    git.git("rm", "-q", "bot/.env")
    git.commit("remove it")

    result = repo.scan_repo(git.root)

    assert len(decoded) == 1
    assert sorted(f.kind.value for f in result.findings) == ["browser_session", "secret"]
    assert {f.location.commit for f in result.findings} == {first}
