"""`shadowmap scan-repo`: hardcoded keys in a repository's working tree and its whole history.

Reads only: never checks out, fetches or writes in the repository. A value found is
kept as a redacted preview and a keyed hash, as every other finding of a secret is.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, assert_never
from urllib.parse import urlsplit, urlunsplit

from shadowmap.agent import __version__, baseline
from shadowmap.agent.baseline import Baseline
from shadowmap.agent.detectors.browser_session import hit_finding, might_hold_session, text_hits
from shadowmap.agent.detectors.secrets import make_reference_finding, make_secret_finding
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
from shadowmap.agent.progress import Progress
from shadowmap.agent.redact import FingerprintKey
from shadowmap.agent.repo_history import Commit, blob_contents, introductions
from shadowmap.agent.runner import resolve_key
from shadowmap.agent.scan import ensure_no_raw_values
from shadowmap.agent.secret_engine import FILTERS, SecretEngine, SecretMatch
from shadowmap.agent.sources.filesystem import SKIP_DIRS, as_text, read_text
from shadowmap.agent.sources.interface import Unreadable
from shadowmap.agent.state import default_state_dir
from shadowmap.signatures import BrowserSessionSignatures, SignaturePack, builtin_pack

if TYPE_CHECKING:
    from git import Repo

logger = logging.getLogger(__name__)

# A text file or blob larger than this is data or a bundle, not source; the same bound
# the filesystem source puts on config files (filesystem.MAX_CONFIG_BYTES).
MAX_FILE_BYTES = 5 * 1024 * 1024
# How much of a file decides that it is binary: git's own heuristic looks for a NUL in
# the first 8000 bytes (xdiff-interface.c, buffer_is_binary); read_text uses 8192.
BINARY_SNIFF_BYTES = 8192
# A key older than this should have been rotated (AAM-3.4); NIST SP 800-57 leaves the
# period to policy, 90 days is the common default (e.g. CIS AWS benchmark 1.14).
DEFAULT_MAX_KEY_AGE_DAYS = 90
AAM_ROTATION = "AAM-3.4"


@dataclass(frozen=True)
class RepoScanOptions:
    """How scan-repo runs beyond the path: CI range, baseline, key age, references."""

    history: bool = True
    staged: bool = False  # only what is staged for the next commit (pre-commit)
    since: str | None = None  # only commits HEAD has that this ref has not
    baseline: Path | None = None
    write_baseline: Path | None = None
    max_key_age_days: int = DEFAULT_MAX_KEY_AGE_DAYS
    references: bool = False  # also report secret-store references (inventory)
    progress: bool = False


@dataclass(frozen=True)
class RepoScanResult:
    report: Report
    known: int = 0  # findings left out because the baseline has them

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings


@dataclass
class Collector:
    """What a repo scan found so far: one finding per (path, value hash), the first commit
    date of each value, what the baseline already knows, and warnings."""

    engine: SecretEngine
    key: FingerprintKey
    known_by: Baseline | None = None
    references: bool = False
    vendor_ids: list[str] = field(default_factory=list)
    # Browser-session markers (session tokens, cookie jars, cookie-reading and CDP code).
    session: BrowserSessionSignatures | None = None
    found: dict[str, Finding] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    first_seen: dict[str, str] = field(default_factory=dict)
    warnings: list[ScanWarning] = field(default_factory=list)
    oversized: int = 0

    def scan_bytes(self, data: bytes, path: str, commit: Commit | None = None) -> None:
        """A blob: decoded only when it trips the keyword prefilter or the session
        markers, and then once, that one text read by both scans."""
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            return
        hits = self.engine.candidates(data)
        session = self.session is not None and might_hold_session(self.session, data.lower())
        if not hits and not session:
            return
        content = as_text(data)
        if hits:
            self.scan(content, path, commit, hits, with_session=False)
        if session:
            self.scan_session(content, path, commit)

    def scan(
        self,
        content: str,
        path: str,
        commit: Commit | None = None,
        hits: frozenset[int] | None = None,
        with_session: bool = True,
    ) -> None:
        if with_session:
            self.scan_session(content, path, commit)
        hits = self.engine.candidates(content.encode("utf-8", "replace")) if hits is None else hits
        for match in self.engine.find(content, path, hits):
            self._add(match, path, commit)
        if self.references:
            for ref in self.engine.references(content, hits):
                location = Location(path=path, line=ref.line, column=ref.column)
                finding = make_reference_finding(
                    ref, location, SourceId.REPO, None, self.vendor_ids
                )
                self.found.setdefault(finding.id, finding)

    def scan_session(self, content: str, path: str, commit: Commit | None) -> None:
        """Browser-session reuse in a file: session tokens, cookie jars, cookie-reading code."""
        if self.session is None:
            return
        for hit in text_hits(self.session, path, PurePosixPath(path).suffix, content):
            line = hit.details.get("line")
            where = Location(
                path=path,
                line=line,
                commit=commit.sha if commit else None,
                author=commit.author if commit else None,
                committed_at=commit.committed_at if commit else None,
            )
            finding = hit_finding(hit, self.key, SourceId.REPO, None, where)
            self.found.setdefault(finding.id, finding)

    def _add(self, match: SecretMatch, path: str, commit: Commit | None) -> None:
        location = _location(match, path, commit)
        finding = make_secret_finding(match, self.key, location, SourceId.REPO, None)
        if commit is not None and finding.value_hash:
            seen = self.first_seen.get(finding.value_hash)
            if seen is None or _when(commit.committed_at) < _when(seen):
                self.first_seen[finding.value_hash] = commit.committed_at
        if self.known_by is not None and self.known_by.knows(finding, match.value, self.key.scope):
            self.known.add(finding.id)
        # History goes first, oldest commit first, so the first finding of a value at
        # a path names the commit that brought it in; the tree's copy adds nothing.
        self.found.setdefault(finding.id, finding)

    def warn(self, message: str, path: str | None = None) -> None:
        self.warnings.append(ScanWarning(source=SourceId.REPO, message=message, path=path))

    def findings(self, max_age_days: int, known: bool = False) -> list[Finding]:
        """The findings to report (known ones left out unless asked for), oldest key age
        and rotation control filled in, most severe first."""

        def order(f: Finding) -> tuple[int, str, int]:
            loc = f.location
            return (-f.severity.rank, loc.path if loc else "", (loc.line or 0) if loc else 0)

        now = datetime.now(UTC)
        chosen = [f for f in self.found.values() if known or f.id not in self.known]
        aged = [_with_age(f, self.first_seen, now, max_age_days) for f in chosen]
        return sorted(aged, key=order)

    def all_warnings(self) -> list[ScanWarning]:
        if not self.oversized:
            return self.warnings
        skipped = f"{self.oversized} files larger than {MAX_FILE_BYTES} bytes were not scanned"
        return [*self.warnings, ScanWarning(source=SourceId.REPO, message=skipped)]


def _when(iso: str) -> datetime:
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def _with_age(
    finding: Finding, first_seen: dict[str, str], now: datetime, max_age_days: int
) -> Finding:
    """The finding with its key's first commit date and age, and AAM-3.4 when too old."""
    first = first_seen.get(finding.value_hash or "")
    if first is None:
        return finding
    age = max(0, (now - _when(first)).days)
    controls = list(finding.aam_controls)
    if age > max_age_days and AAM_ROTATION not in controls:
        controls.append(AAM_ROTATION)
    evidence = {**finding.evidence, "key_first_committed_at": first, "key_age_days": age}
    return finding.model_copy(update={"evidence": evidence, "aam_controls": controls})


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


def scan_repo(
    path: Path, history: bool = True, options: RepoScanOptions | None = None
) -> RepoScanResult:
    """Scan a repository (tree and, unless told not to, its commits) or a plain folder."""
    options = options or RepoScanOptions(history=history)
    root = _checked_folder(path)
    pack = builtin_pack()
    known_by = baseline.load(options.baseline) if options.baseline else None
    collector = Collector(
        SecretEngine(pack),
        resolve_key(default_state_dir()),
        known_by=known_by,
        references=options.references,
        vendor_ids=sorted(pack.vendors),
        session=pack.browser_session,
    )

    with Progress(options.progress) as progress:
        if _is_repo_root(root):
            repository = _scan_git(root, options, collector, progress)
        else:
            repository = _scan_plain(root, collector)

    if options.write_baseline is not None:
        every = collector.findings(options.max_key_age_days, known=True)
        baseline.write(options.write_baseline, every, collector.key.scope)
    report = _build_report(repository, collector, pack, options.max_key_age_days)
    return RepoScanResult(report, known=len(collector.known))


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


def _scan_git(
    root: Path, options: RepoScanOptions, collector: Collector, progress: Progress
) -> RepositoryInfo:
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
            if options.staged:
                _scan_staged(repo, collector)
                return _repository_info(repo, root, False, 0)
            commits = 0
            if options.history:
                commits = _scan_history(repo, options.since, collector, progress)
            if not repo.bare:
                _scan_tree(root, _tree_files(root, _tracked(repo), collector), collector)
            return _repository_info(repo, root, options.history, commits)
    except GitError as exc:
        raise ScanError(
            f"git could not read {root}: {_git_problem(exc)}",
            hint=f"check that `git -C {root} log --all` works here",
        ) from exc


def _scan_staged(repo: Repo, collector: Collector) -> None:
    """The index's copy of each file added or changed for the next commit."""
    listing: str = repo.git.diff("--cached", "--name-only", "-z", "--diff-filter=ACMR")
    paths = [name for name in listing.split("\0") if name]
    names = [f":{path}" for path in paths]  # gitrevisions(7): ":<path>", the staged blob
    for name, data, _ in blob_contents(repo, names, MAX_FILE_BYTES):
        if data is None:
            collector.oversized += 1
        else:
            collector.scan_bytes(data, name[1:])


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


def _scan_history(repo: Repo, since: str | None, collector: Collector, progress: Progress) -> int:
    """Scan each blob once, as the commit and path that introduced it (a copy of it at
    a second path is not reported again); the number of commits listed."""
    blobs, commits = introductions(repo, since)
    progress.start(len(blobs), "history")
    for sha, data, size in blob_contents(repo, list(blobs), MAX_FILE_BYTES):
        if data is None:
            collector.oversized += 1
        else:
            introduced = blobs[sha]
            collector.scan_bytes(data, introduced.path, introduced.commit)
        progress.advance(size, len(collector.found))

    if (Path(repo.git_dir) / "shallow").exists():
        collector.warn(
            "the clone is shallow: commits before its depth were not scanned "
            "(fetch the full history, e.g. actions/checkout with fetch-depth: 0)"
        )
    return commits


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


def _build_report(
    repository: RepositoryInfo, collector: Collector, pack: SignaturePack, max_age_days: int
) -> Report:
    report = Report(
        report_id=str(uuid.uuid4()),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scanner=ScannerInfo(version=__version__, signatures_version=pack.version),
        host=host_info(),
        repository=repository,
        users=[],
        sources=[SourceId.REPO],
        fingerprint_scope=collector.key.scope,
        findings=collector.findings(max_age_days),
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
            return _render_text(result.report, result.known)
        case OutputFormat.JSON:
            return json_output.render(result.report)
        case OutputFormat.SARIF:
            return sarif.render(result.report, builtin_pack())
        case _:
            assert_never(chosen)


def _render_text(report: Report, known: int) -> str:
    lines = text.table(report.findings) if report.findings else []
    for warning in report.warnings:
        where = f"{warning.path}: " if warning.path else ""
        lines.append(f"warning: {where}{warning.message}")
    lines.append(_summary(report, known))
    return "\n".join(lines) + "\n"


def _summary(report: Report, known: int) -> str:
    repo = report.repository
    scanned = repo.path if repo else "?"
    if repo is None or not repo.history:
        covered = "the files only, no history"
    else:
        covered = f"the files and {repo.commits_scanned} commits on all refs"
    baselined = f"; {known} known from the baseline, not shown" if known else ""
    return (
        f"{len(report.findings)} secrets in {scanned} ({covered}); "
        f"{len(report.warnings)} warnings{baselined}"
    )
