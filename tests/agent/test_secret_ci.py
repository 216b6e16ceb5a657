"""scan-repo in CI: key age and rotation, --since, baselines (ours and detect-secrets'),
inline allowlist comments, secret-store references, and a quiet stderr."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowmap.agent import progress
from shadowmap.agent.repo import RepoScanOptions, scan_repo
from tests import fakekeys
from tests.agent.repo_helpers import GitRepo, make_repo


@pytest.fixture(autouse=True)
def own_state(monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> None:
    monkeypatch.setenv("SHADOWMAP_STATE_DIR", str(state_dir))
    monkeypatch.delenv("SHADOWMAP_FINGERPRINT_KEY", raising=False)


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    return lambda name="repo": make_repo(tmp_path / name)


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def kinds(findings) -> list[str]:
    return sorted(f"{f.secret.kind}@{f.location.path}" for f in findings if f.secret)


# --- key age and rotation (AAM-3.4) -----------------------------------------------------


def test_a_key_carries_its_first_commit_date_and_age(new_repo):
    repo = new_repo()
    key = fakekeys.groq()
    repo.write("a.py", f"K = '{key}'\n")
    repo.commit("old", date="2021-05-04T10:00:00+00:00")
    repo.write("b.py", f"K2 = '{key}'\n")  # the same key at a second path, later
    repo.commit("copy", date=days_ago(3))
    repo.write("c.py", f"T = '{fakekeys.tavily()}'\n")
    repo.commit("new", date=days_ago(10))

    findings = {f.location.path: f for f in scan_repo(repo.root).findings}

    for path in ("a.py", "b.py"):
        assert findings[path].evidence["key_first_committed_at"] == "2021-05-04T10:00:00+00:00"
        assert findings[path].evidence["key_age_days"] > 1000
        assert findings[path].aam_controls == ["AAM-3.3", "AAM-3.4"]
    assert 9 <= findings["c.py"].evidence["key_age_days"] <= 11
    assert findings["c.py"].aam_controls == ["AAM-3.3"]


def test_max_key_age_decides_rotation(new_repo, shadowmap):
    repo = new_repo()
    repo.write("c.py", f"T = '{fakekeys.tavily()}'\n")
    repo.commit("new", date=days_ago(10))
    repo.write("untracked.env", f"GROQ_API_KEY={fakekeys.groq(2)}\n")

    strict = shadowmap("scan-repo", str(repo.root), "--format", "sarif", "--max-key-age", "5")
    lax = shadowmap("scan-repo", str(repo.root), "--format", "json")

    results = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
        for r in json.loads(strict.stdout)["runs"][0]["results"]
    }
    assert "AAM-3.4" in results["c.py"]["properties"]["aamControls"]
    assert results["c.py"]["properties"]["keyAgeDays"] >= 9
    assert "days old" in results["c.py"]["message"]["text"]
    assert "keyAgeDays" not in results["untracked.env"]["properties"]  # never committed
    by_path = {f["location"]["path"]: f for f in json.loads(lax.stdout)["findings"]}
    assert by_path["c.py"]["aam_controls"] == ["AAM-3.3"]
    assert shadowmap("scan-repo", str(repo.root), "--max-key-age", "-1").code == 2


# --- --since ----------------------------------------------------------------------------


def test_since_scans_only_the_new_commits_and_the_tree(new_repo, shadowmap):
    repo = new_repo()
    repo.write("old.py", f"K = '{fakekeys.github_classic(31)}'\n")
    repo.commit("old key")
    (repo.root / "old.py").unlink()
    repo.commit("remove it")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("new.py", f"K = '{fakekeys.anthropic(32)}'\n")
    added = repo.commit("new key")
    (repo.root / "new.py").unlink()
    repo.commit("remove it too")

    everything = scan_repo(repo.root)
    since = scan_repo(repo.root, options=RepoScanOptions(since="main"))

    assert kinds(everything.findings) == ["anthropic-api-key@new.py", "github-token@old.py"]
    assert kinds(since.findings) == ["anthropic-api-key@new.py"]
    assert since.findings[0].location.commit == added
    assert since.report.repository.commits_scanned == 2
    bad = shadowmap("scan-repo", str(repo.root), "--since", "no-such-branch")
    assert bad.code == 2 and "shadowmap: next:" in bad.stderr and "Traceback" not in bad.stderr


# --- baselines --------------------------------------------------------------------------


def test_our_baseline_round_trip_leaves_only_new_findings(new_repo, shadowmap, tmp_path):
    repo = new_repo()
    known = fakekeys.huggingface(33)
    repo.write("app.py", f"HF = '{known}'\n")
    repo.commit("known key")
    baseline = tmp_path / "shadowmap-baseline.json"

    first = shadowmap("scan-repo", str(repo.root), "--write-baseline", str(baseline))
    again = shadowmap("scan-repo", str(repo.root), "--baseline", str(baseline))
    repo.write("more.py", f"G = '{fakekeys.groq(34)}'\n")
    later = shadowmap("scan-repo", str(repo.root), "--baseline", str(baseline), "--format", "json")

    assert first.code == 1 and again.code == 0, again.stdout
    assert "1 known from the baseline" in again.stdout
    assert [f["secret"]["kind"] for f in json.loads(later.stdout)["findings"]] == ["groq-api-key"]
    written = baseline.read_text()
    assert json.loads(written)["shadowmap_baseline"] == 1
    assert known not in written and known[-8:] not in written
    assert hashlib.sha1(known.encode()).hexdigest() not in written


def test_a_baseline_made_under_another_fingerprint_key_still_matches(new_repo, shadowmap, tmp_path):
    repo = new_repo()
    repo.write("app.py", f"HF = '{fakekeys.huggingface(44)}'\n")
    repo.commit("known key")
    baseline = tmp_path / "laptop-baseline.json"
    laptop, ci = {"SHADOWMAP_FINGERPRINT_KEY": "l" * 32}, {"SHADOWMAP_FINGERPRINT_KEY": "c" * 32}

    shadowmap("scan-repo", str(repo.root), "--write-baseline", str(baseline), env=laptop)
    run = shadowmap("scan-repo", str(repo.root), "--baseline", str(baseline), env=ci)

    assert run.code == 0, run.stdout


def test_a_detect_secrets_baseline_is_honoured(new_repo, shadowmap):
    repo = new_repo()
    known, new = fakekeys.github_classic(35), fakekeys.github_classic(36)
    repo.write("conf.py", f"TOKEN = '{known}'\n")
    repo.commit("known")
    made = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files"],
        cwd=repo.root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    (repo.root / ".secrets.baseline").write_text(made.stdout)
    assert json.loads(made.stdout)["results"]["conf.py"]  # detect-secrets saw it
    repo.write("other.py", f"TOKEN = '{new}'\n")

    run = shadowmap(
        "scan-repo", str(repo.root), "--baseline", str(repo.root / ".secrets.baseline"),
        "--format", "json",
    )  # fmt: skip

    paths = [f["location"]["path"] for f in json.loads(run.stdout)["findings"]]
    assert paths == ["other.py"] and run.code == 1
    assert hashlib.sha1(new.encode()).hexdigest() not in run.everything


@pytest.mark.parametrize(
    "content, message",
    [("not json", "not JSON"), ('{"some": "thing"}', "not a baseline")],
)
def test_a_bad_baseline_is_a_usage_error(new_repo, shadowmap, tmp_path, content, message):
    repo = new_repo()
    (tmp_path / "b.json").write_text(content)
    run = shadowmap("scan-repo", str(repo.root), "--baseline", str(tmp_path / "b.json"))
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr


# --- allowlist comments and references --------------------------------------------------


def test_inline_allowlist_comments_are_honoured_in_history_too(new_repo):
    repo = new_repo()
    repo.write(
        "fixtures.py",
        f"A = '{fakekeys.groq(37)}'  # shadowmap:allow\n"
        f"B = '{fakekeys.groq(38)}'  # pragma: allowlist secret\n"
        "# pragma: allowlist nextline secret\n"
        f"C = '{fakekeys.groq(39)}'\n"
        f"D = '{fakekeys.groq(40)}'\n",
    )
    repo.commit("fixtures")

    result = scan_repo(repo.root)

    assert [(f.location.path, f.location.line) for f in result.findings] == [("fixtures.py", 5)]


def test_references_are_inventory_only_when_asked(new_repo, shadowmap):
    repo = new_repo()
    repo.write(".env.tpl", "OPENAI_API_KEY=op://Engineering/OpenAI/credential\n")
    repo.commit("template")

    quiet = shadowmap("scan-repo", str(repo.root), "--format", "json")
    asked = shadowmap("scan-repo", str(repo.root), "--format", "json", "--references")

    assert quiet.code == 0 and json.loads(quiet.stdout)["findings"] == []
    assert asked.code == 0, asked.stderr  # a reference is not a leak
    (ref,) = json.loads(asked.stdout)["findings"]
    assert (ref["kind"], ref["severity"], ref["aam_controls"]) == (
        "secret_reference", "info", ["AAM-1.2"],
    )  # fmt: skip
    assert ref["evidence"] == {
        "store": "1Password", "reference": "onepassword-reference", "name": "OPENAI_API_KEY",
    }  # fmt: skip
    assert ref["vendor"] == "openai" and "Engineering" not in asked.stdout


# --- progress ---------------------------------------------------------------------------


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "stream, fmt, to_stdout, ci, shown",
    [
        (Tty(), "text", True, None, True),
        (Tty(), "json", False, None, True),  # JSON goes to a file: the terminal is free
        (Tty(), "json", True, None, False),
        (Tty(), "sarif", True, None, False),
        (Tty(), "text", True, "true", False),
        (io.StringIO(), "text", True, None, False),
    ],
)
def test_progress_only_on_a_terminal(monkeypatch, stream, fmt, to_stdout, ci, shown):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert progress.wanted(fmt, to_stdout, stream) is shown


def test_progress_draws_counts_and_never_values(monkeypatch):
    drawn = Tty()
    monkeypatch.setattr(sys, "stderr", drawn)
    with progress.Progress(True) as bar:
        bar.start(2, "history")
        bar.advance(1000, 0)
        bar.advance(2000, 1)
    assert "history" in drawn.getvalue() and "findings" in drawn.getvalue()


def test_a_piped_stderr_stays_quiet(new_repo, shadowmap):
    repo = new_repo()
    repo.write("a.py", f"K = '{fakekeys.groq(41)}'\n")
    repo.commit("a")
    run = shadowmap("scan-repo", str(repo.root))
    assert run.code == 1 and run.stderr == ""


# --- pre-commit -------------------------------------------------------------------------


def test_staged_mode_reads_what_is_staged_not_the_tree(new_repo, shadowmap):
    repo = new_repo()
    repo.write("README.md", "hi\n")
    repo.commit("start")
    repo.write("staged.py", f"K = '{fakekeys.groq(42)}'\n")
    repo.git("add", "staged.py")
    repo.write("staged.py", "K = os.environ['GROQ_API_KEY']\n")  # fixed, but not staged
    repo.write("local.env", f"GROQ_API_KEY={fakekeys.groq(43)}\n")  # never staged

    run = shadowmap("scan-repo", "--staged", str(repo.root), "--format", "json")

    assert run.code == 1, run.stderr
    assert [f["location"]["path"] for f in json.loads(run.stdout)["findings"]] == ["staged.py"]


def test_the_pre_commit_hook_runs_a_real_command():
    import yaml

    from shadowmap.agent.cli import build_parser

    hooks = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "shadowmap")
    program, *args = hook["entry"].split()
    parsed = build_parser().parse_args(args)
    assert program == "shadowmap" and parsed.staged and hook["pass_filenames"] is False
