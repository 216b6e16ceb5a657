"""A repository's history as scan-repo reads it: each unique blob with the commit and path
that introduced it (one `git log`), and the blobs' bytes (one `git cat-file --batch`).

Reads only: never checks out, fetches or writes in the repository.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from shadowmap.agent.errors import UsageError

if TYPE_CHECKING:
    from git import Repo

logger = logging.getLogger(__name__)

# Every commit, parents before children (git-log(1): --topo-order, --reverse), each
# listed with the blobs it adds or changes: --raw with full ids, -z so paths are never
# quoted, -c so a merge lists only what differs from every parent (a blob written while
# resolving it), --root so the first commit lists its files too.
LOG_FORMAT = "%x01%H%x1f%cI%x1f%an"
LOG_ARGS = (
    "--topo-order", "--reverse", "--raw", "--no-abbrev", "--no-renames",
    "-c", "-z", "--root", "--no-show-signature", f"--format={LOG_FORMAT}",
)  # fmt: skip
# Which commits: every ref (branches, tags, stashes, remotes), or with --since only those
# HEAD has that REF has not (gitrevisions(7), "^<rev>" / --not).
ALL_REFS = ("--all",)
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


def revisions(repo: Repo, since: str | None) -> tuple[str, ...]:
    """What `git log` walks: all refs, or HEAD without what REF already has."""
    if since is None:
        return ALL_REFS
    try:
        repo.git.rev_parse("--verify", "--quiet", f"{since}^{{commit}}")
    except Exception as exc:  # GitCommandError; GitPython is imported lazily
        raise UsageError(
            f"--since {since}: no such commit or ref in this repository",
            hint="name a branch, tag or commit that exists here (fetch it first in CI, "
            "e.g. actions/checkout with fetch-depth: 0)",
        ) from exc
    return ("HEAD", "--not", since)


def introductions(repo: Repo, since: str | None) -> tuple[dict[str, Introduction], int]:
    """Each blob's first commit and path, in the order introduced, and the commit count."""
    process = repo.git.log(*LOG_ARGS, *revisions(repo, since), as_process=True)
    blobs, commits = parse_log(_nul_fields(process.stdout))
    process.wait()
    logger.info("history: %d commits, %d unique blobs", commits, len(blobs))
    return blobs, commits


def _nul_fields(stream: IO[bytes]) -> Iterator[bytes]:
    pending = b""
    while chunk := stream.read(READ_CHUNK):
        *complete, pending = (pending + chunk).split(b"\0")
        yield from complete
    if pending:
        yield pending


def parse_log(fields: Iterable[bytes]) -> tuple[dict[str, Introduction], int]:
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


def blob_contents(
    repo: Repo, shas: Sequence[str], max_bytes: int
) -> Iterator[tuple[str, bytes | None, int]]:
    """(id, bytes, size) for each blob in order, bytes None when larger than max_bytes;
    one `git cat-file --batch --buffer`, fed from a thread so neither side waits."""
    process = repo.git.cat_file("--batch", "--buffer", as_process=True, istream=subprocess.PIPE)
    feeder = threading.Thread(target=_feed, args=(process.stdin, shas), daemon=True)
    feeder.start()
    stdout = process.stdout
    try:
        for sha in shas:
            header = stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                logger.debug("blob %s could not be read (%s)", sha, b" ".join(header[1:]))
                continue
            size = int(header[2])
            yield sha, _read_blob(stdout, size, max_bytes), size
    finally:
        feeder.join()
        process.wait()


def _feed(stdin: IO[bytes], shas: Sequence[str]) -> None:
    try:
        for sha in shas:
            stdin.write(sha.encode("ascii") + b"\n")
        stdin.close()
    except OSError:  # git went away; the reader reports what it got
        logger.debug("git cat-file stopped reading blob ids")


def _read_blob(stdout: IO[bytes], size: int, max_bytes: int) -> bytes | None:
    if size > max_bytes:
        left = size
        while left > 0:  # one cat-file serves all blobs: read past this one
            chunk = stdout.read(min(READ_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
        stdout.read(1)
        return None
    data = stdout.read(size)
    stdout.read(1)  # the newline after each object (git-cat-file(1), BATCH OUTPUT)
    return data
