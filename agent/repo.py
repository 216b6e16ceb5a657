"""`shadowmap scan-repo`: hardcoded keys in a repository's working tree and its whole history.

Reads only: never checks out, fetches or writes in the repository. A value found is
kept as a redacted preview and a keyed hash, as every other finding of a secret is.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, assert_never
from urllib.parse import urlsplit, urlunsplit

from shadowmap.agent import __version__
from shadowmap.agent.detectors.secrets import make_secret_finding
from shadowmap.agent.errors import ScanError, UsageError
from shadowmap.agent.host import host_info
from shadowmap.agent.models import (
    Finding,
    Location,
    Report,
    RepositoryInfo,
    ScannerInfo,
    ScanWarning,
    SourceId,
)
from shadowmap.agent.outputs import json_output, sarif, text
from shadowmap.agent.outputs.interface import OutputFormat
from shadowmap.agent.redact import FingerprintKey
from shadowmap.agent.runner import resolve_key
from shadowmap.agent.scan import ensure_no_raw_values
from shadowmap.agent.secret_engine import FILTERS, SecretEngine, SecretMatch
from shadowmap.agent.sources.filesystem import SKIP_DIRS, read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.agent.state import default_state_dir
from shadowmap.signatures import SignaturePack, builtin_pack

if TYPE_CHECKING:
    from git import Repo

logger = logging.getLogger(__name__)

# A text file or blob larger than this is data or a bundle, not source; the same bound
# the filesystem source puts on config files (filesystem.MAX_CONFIG_BYTES).
MAX_FILE_BYTES = 5 * 1024 * 1024
# How much of a file decides that it is binary: git's own heuristic looks for a NUL in
# the first 8000 bytes (xdiff-interface.c, buffer_is_binary); read_text uses 8192.
BINARY_SNIFF_BYTES = 8192
# Every commit reachable from any ref, parents before children (git-log(1): --topo-order,
# --reverse), each listed with the blobs it adds or changes: --raw with full ids, -z so
# paths are never quoted, -c so a merge lists only what differs from every parent (a
# blob written while resolving it), --root so the first commit lists its files too.
LOG_FORMAT = "%x01%H%x1f%cI%x1f%an"
LOG_ARGS = (
    "--all", "--topo-order", "--reverse", "--raw", "--no-abbrev", "--no-renames",
    "-c", "-z", "--root", "--no-show-signature", f"--format={LOG_FORMAT}",
)  # fmt: skip
# A regular file's mode in git's tree entries (100644, 100755); links and submodules differ.
REGULAR_FILE_MODE = "100"
READ_CHUNK = 1 << 16


@dataclass(frozen=True)
class Commit:
    sha: str
    committed_at: str
    author: str


@dataclass(frozen=True)
class Introduction:
    """The commit and path that first brought a blob into the history."""

    commit: Commit
    path: str


@dataclass(frozen=True)
class RepoScanResult:
    report: Report

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings


@dataclass
class Collector:
    """What a repo scan found so far: one finding per (path, value hash), and warnings."""

    engine: SecretEngine
    key: FingerprintKey
    found: dict[str, Finding] = field(default_factory=dict)
    warnings: list[ScanWarning] = field(default_factory=list)
    oversized: int = 0

    def scan(self, content: str, path: str, commit: Commit | None = None) -> None:
        for match in self.engine.find(content):
            location = _location(match, path, commit)
            finding = make_secret_finding(match, self.key, location, SourceId.REPO, None)
            # History goes first, oldest commit first, so the first finding of a value at
            # a path names the commit that brought it in; the tree's copy adds nothing.
            self.found.setdefault(finding.id, finding)

    def warn(self, message: str, path: str | None = None) -> None:
        self.warnings.append(ScanWarning(source=SourceId.REPO, message=message, path=path))

    def findings(self) -> list[Finding]:
        def order(f: Finding) -> tuple[int, str, int]:
            loc = f.location
            return (-f.severity.rank, loc.path if loc else "", (loc.line or 0) if loc else 0)

        return sorted(self.found.values(), key=order)

    def all_warnings(self) -> list[ScanWarning]:
        if not self.oversized:
            return self.warnings
        skipped = f"{self.oversized} files larger than {MAX_FILE_BYTES} bytes were not scanned"
        return [*self.warnings, ScanWarning(source=SourceId.REPO, message=skipped)]


def _location(match: SecretMatch, path: str, commit: Commit | None) -> Location:
    if commit is None:
        return Location(path=path, line=match.line, column=match.column)
    return Location(
        path=path,
        line=match.line,
        column=match.column,
        commit=commit.sha,
        author=commit.author,
        committed_at=commit.committed_at,
    )


def scan_repo(path: Path, history: bool = True) -> RepoScanResult:
    """Scan a repository (tree and, unless told not to, every commit) or a plain folder."""
    root = _checked_folder(path)
    pack = builtin_pack()
    collector = Collector(SecretEngine(pack), resolve_key(default_state_dir()))

    if _is_repo_root(root):
        repository = _scan_git(root, history, collector)
    else:
        repository = _scan_plain(root, collector)

    return RepoScanResult(_build_report(repository, collector, pack))


def _checked_folder(path: Path) -> Path:
    hint = "give the path of a repository or of a folder to scan"
    if not path.exists():
        raise ScanError(f"{path} does not exist", hint=hint)
    if not path.is_dir():
        raise ScanError(f"{path} is not a folder", hint=hint)
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        raise ScanError(f"{path} cannot be read: {exc.strerror}", hint=hint) from exc
    return path.resolve()


def _is_repo_root(folder: Path) -> bool:
    """A work tree's top (.git is a folder, or a file in worktrees and submodules) or a
    bare repository (gitrepository-layout(5): HEAD, objects/, refs/)."""
    if (folder / ".git").exists():
        return True
    return all((folder / name).exists() for name in ("HEAD", "objects", "refs"))


def _scan_plain(root: Path, collector: Collector) -> RepositoryInfo:
    enclosing = next((p for p in root.parents if (p / ".git").exists()), None)
    if enclosing is not None:
        collector.warn(
            f"this folder is inside the repository at {enclosing}; only its files were "
            "scanned, no history (scan the repository's top folder for that)"
        )
    _scan_tree(root, _tree_files(root, (), collector), collector)
    return RepositoryInfo(path=str(root), history=False)


def _scan_git(root: Path, history: bool, collector: Collector) -> RepositoryInfo:
    try:
        from git import Repo
        from git.exc import GitError
    except ImportError as exc:
        raise ScanError(
            "git cannot be run, so the repository cannot be read",
            hint="install git, or set GIT_PYTHON_GIT_EXECUTABLE to its path; "
            "--no-history does not help, the tree is read through git too",
        ) from exc
    try:
        with Repo(root) as repo:
            commits = _scan_history(repo, collector) if history else 0
            if not repo.bare:
                _scan_tree(root, _tree_files(root, _tracked(repo), collector), collector)
            return _repository_info(repo, root, history, commits)
    except GitError as exc:
        raise ScanError(
            f"git could not read {root}: {_git_problem(exc)}",
            hint=f"check that `git -C {root} log --all` works here",
        ) from exc


def _git_problem(exc: Exception) -> str:
    """Git's own first words where it ran and failed, else what GitPython found."""
    for line in str(getattr(exc, "stderr", "") or "").splitlines():
        line = line.strip().removeprefix("stderr:").strip(" '")
        if line:
            return line
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__} {first}".strip()


def _tracked(repo: Repo) -> list[str]:
    listing: str = repo.git.ls_files("-z")
    return [name for name in listing.split("\0") if name]


def _tree_files(root: Path, tracked: Iterable[str], collector: Collector) -> list[Path]:
    """Every file under root but those in VCS, dependency, cache and build folders
    (filesystem.SKIP_DIRS), and every tracked file wherever it is: a tracked vendor/
    file is still the repository's own."""

    def unreadable(exc: OSError) -> None:
        collector.warn(f"folder not read: {exc.strerror}", _shown(root, Path(exc.filename)))

    found: list[Path] = []
    for folder, dirs, files in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found.extend(Path(folder) / name for name in sorted(files))
    found.extend(root / name for name in tracked)
    return list(dict.fromkeys(found))


def _scan_tree(root: Path, files: list[Path], collector: Collector) -> None:
    for path in files:
        if path.is_symlink() or not path.is_file():
            continue  # links may point out of the tree; a tracked file may be deleted
        shown = _shown(root, path)
        try:
            content = read_text(path, MAX_FILE_BYTES)
        except Unreadable as exc:
            if exc.reason.startswith("larger"):
                collector.oversized += 1
            elif exc.reason != "binary content":
                collector.warn(f"not read: {exc.reason}", shown)
            continue
        collector.scan(content, shown)


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _scan_history(repo: Repo, collector: Collector) -> int:
    """Scan each blob once, as the commit and path that introduced it (a copy of it at
    a second path is not reported again); the number of commits listed."""
    process = repo.git.log(*LOG_ARGS, as_process=True)
    blobs, commits = _introductions(_nul_fields(process.stdout))
    process.wait()
    logger.info("history: %d commits, %d unique blobs", commits, len(blobs))

    for sha, introduced in blobs.items():
        content = _blob_text(repo, sha, collector)
        if content is not None:
            collector.scan(content, introduced.path, introduced.commit)

    if (Path(repo.git_dir) / "shallow").exists():
        collector.warn(
            "the clone is shallow: commits before its depth were not scanned "
            "(fetch the full history, e.g. actions/checkout with fetch-depth: 0)"
        )
    return commits


def _nul_fields(stream: IO[bytes]) -> Iterator[bytes]:
    pending = b""
    while chunk := stream.read(READ_CHUNK):
        *complete, pending = (pending + chunk).split(b"\0")
        yield from complete
    if pending:
        yield pending


def _introductions(fields: Iterable[bytes]) -> tuple[dict[str, Introduction], int]:
    """From `git log` output as LOG_ARGS asks for it: each blob's first commit and path,
    in the order they were introduced, and how many commits were listed."""
    blobs: dict[str, Introduction] = {}
    commits: set[str] = set()
    commit: Commit | None = None
    stream = iter(fields)
    for raw in stream:
        entry = raw.lstrip(b"\n")
        if entry.startswith(b"\x01"):
            sha, committed_at, author = entry[1:].decode("utf-8", "replace").split("\x1f", 2)
            commit = Commit(sha, committed_at, author)
            commits.add(sha)
        elif entry.startswith(b":"):
            path = next(stream, b"").decode("utf-8", "replace")
            blob = _new_blob(entry.decode("ascii", "replace"))
            if commit is not None and blob is not None and blob not in blobs:
                blobs[blob] = Introduction(commit, path)
    return blobs, len(commits)


def _new_blob(entry: str) -> str | None:
    """The id of the file a raw diff line leaves behind, if it is a regular file.

    One colon per parent, then a mode per parent and the result's, then as many ids
    (git-diff(1), "Raw output format" and its combined form for merges)."""
    parents = len(entry) - len(entry.lstrip(":"))
    parts = entry.lstrip(":").split()
    if len(parts) < 2 * parents + 2:
        return None
    mode, sha = parts[parents], parts[2 * parents + 1]
    return sha if mode.startswith(REGULAR_FILE_MODE) else None


def _blob_text(repo: Repo, sha: str, collector: Collector) -> str | None:
    _, _, size, stream = repo.git.stream_object_data(sha)
    if size > MAX_FILE_BYTES:
        collector.oversized += 1
        while stream.read(READ_CHUNK):  # one cat-file serves all blobs: read past this one
            pass
        return None
    data: bytes = stream.read()
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _repository_info(repo: Repo, root: Path, history: bool, commits: int) -> RepositoryInfo:
    try:
        head: str | None = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        head = None
    try:
        branch: str | None = repo.active_branch.name
    except TypeError:  # a detached HEAD
        branch = None
    return RepositoryInfo(
        path=str(root),
        head=head,
        branch=branch,
        remote=_remote_url(repo),
        history=history,
        commits_scanned=commits,
    )


def _remote_url(repo: Repo) -> str | None:
    names = [remote.name for remote in repo.remotes]
    if not names:
        return None
    name = "origin" if "origin" in names else names[0]
    url = repo.config_reader().get_value(f'remote "{name}"', "url", default="")
    return without_credentials(str(url)) or None


def without_credentials(url: str) -> str:
    """A remote URL without the user:password@ that an https or ssh URL may carry."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _build_report(repository: RepositoryInfo, collector: Collector, pack: SignaturePack) -> Report:
    report = Report(
        report_id=str(uuid.uuid4()),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scanner=ScannerInfo(version=__version__, signatures_version=pack.version),
        host=host_info(),
        repository=repository,
        users=[],
        sources=[SourceId.REPO],
        fingerprint_scope=collector.key.scope,
        findings=collector.findings(),
        warnings=collector.all_warnings(),
        filters_used=sorted(FILTERS),
    )
    return ensure_no_raw_values(report, collector.engine)


def render_repo_result(result: RepoScanResult, fmt: str) -> str:
    try:
        chosen = OutputFormat(fmt)
    except ValueError:
        raise UsageError(f"unknown format {fmt!r}", hint="use text, json or sarif") from None
    match chosen:
        case OutputFormat.TEXT:
            return _render_text(result.report)
        case OutputFormat.JSON:
            return json_output.render(result.report)
        case OutputFormat.SARIF:
            return sarif.render(result.report, builtin_pack())
        case _:
            assert_never(chosen)


def _render_text(report: Report) -> str:
    lines = text.table(report.findings) if report.findings else []
    for warning in report.warnings:
        where = f"{warning.path}: " if warning.path else ""
        lines.append(f"warning: {where}{warning.message}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _summary(report: Report) -> str:
    repo = report.repository
    scanned = repo.path if repo else "?"
    if repo is None or not repo.history:
        covered = "the files only, no history"
    else:
        covered = f"the files and {repo.commits_scanned} commits on all refs"
    return (
        f"{len(report.findings)} secrets in {scanned} ({covered}); {len(report.warnings)} warnings"
    )
