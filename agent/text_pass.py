"""The one pass over a home's files that the secrets and browser-session detectors share.

Each reader chooses its files with its own bounds; the pass walks the project folders once,
reads each chosen file once (within the larger bound of its readers) and hands the text to
every reader that chose it. Only what the readers make of a text is kept, never the texts.
A reader that raises fails alone, in its own detector. Reads only, through
sources/filesystem.py.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from shadowmap.agent.context import ScanContext
from shadowmap.agent.detectors.interface import DetectorOutput
from shadowmap.agent.mcp.locate import project_dirs
from shadowmap.agent.models import SourceId
from shadowmap.agent.sources.filesystem import files_in, read_sized, too_large
from shadowmap.agent.sources.interface import Unreadable

logger = logging.getLogger(__name__)

T = TypeVar("T")

MEMO_KEY = "text_pass"


class TextReader(ABC):
    """One detector's part in the pass: the files it reads and what their texts yield.

    Made once per pass, so it may count between calls (a cap on project files)."""

    source: SourceId

    @abstractmethod
    def fixed(self) -> dict[Path, int]:
        """Files at known places, in this reader's order, each with the most bytes it reads."""

    @abstractmethod
    def in_folder(self, folder: Path, files: list[Path]) -> dict[Path, int]:
        """The files it reads among one project folder's files (in their order), each
        with its bound; never one of its fixed files."""

    def walking(self) -> bool:
        """Whether it still wants project folders (not once its cap is reached)."""
        return True

    @abstractmethod
    def read(self, path: Path, text: str) -> DetectorOutput:
        """What one file's text yields."""

    def unread(self, path: Path, problem: Unreadable) -> DetectorOutput:
        """What a file yields that could not be read, or is larger than this reader's bound."""
        return DetectorOutput()

    def finish(self) -> DetectorOutput:
        """What is left to say after every file (it follows the files' output)."""
        return DetectorOutput()


ReaderFactory = Callable[[ScanContext], TextReader]
Outcome = DetectorOutput | Exception


def readers() -> dict[SourceId, ReaderFactory]:
    """The pass's readers, registered in this one place, in the order they choose files."""
    from shadowmap.agent.detectors.browser_session import SessionTexts
    from shadowmap.agent.detectors.secrets import SecretTexts

    return {SourceId.SECRETS: SecretTexts, SourceId.BROWSER_SESSION: SessionTexts}


@dataclass
class _ScanState:
    """The pass on one ScanContext: readers the scan will still ask for, outcomes not taken."""

    planned: set[SourceId] = field(default_factory=set)
    outcomes: dict[SourceId, Outcome] = field(default_factory=dict)


def plan(ctx: ScanContext, sources: Iterable[SourceId]) -> None:
    """Which readers this scan will ask for (scan.run_detectors says so first), so that the
    first one to ask reads for all; a reader asked without a plan reads alone."""
    state = ctx.memo(MEMO_KEY, _ScanState)
    state.planned = set(sources) & set(readers())
    state.outcomes.clear()


def output_for(ctx: ScanContext, source: SourceId) -> DetectorOutput:
    """A reader's findings and warnings from this scan's pass, run on the first ask; what
    the reader raised is raised here, in its own detector."""
    state = ctx.memo(MEMO_KEY, _ScanState)
    if source not in state.outcomes:
        chosen = [s for s in readers() if s == source or s in state.planned]
        state.planned -= set(chosen)
        state.outcomes.update(run_pass(ctx, chosen))
    outcome = state.outcomes.pop(source)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def run_pass(ctx: ScanContext, sources: list[SourceId]) -> dict[SourceId, Outcome]:
    """One walk and one read of every file the readers of these sources choose."""
    factories = readers()
    shares = [_Share.start(ctx, factories[source]) for source in sources]
    fixed = dict.fromkeys(path for share in shares for path in share.fixed)

    _walk(ctx, shares, fixed)
    for path in fixed:
        takers = [(s, s.bound(path)) for s in shares if s.takes(path)]
        for share, out in _read(path, takers):
            share.outputs[path] = out

    return {source: share.outcome() for source, share in zip(sources, shares, strict=True)}


@dataclass
class _Share:
    """One reader's part of a running pass, and what it has found so far."""

    reader: TextReader | None
    error: Exception | None = None
    fixed: dict[Path, int] = field(default_factory=dict)
    # Files met in the walk that another reader has at a known place: read with those.
    late: dict[Path, int] = field(default_factory=dict)
    outputs: dict[Path, DetectorOutput] = field(default_factory=dict)  # fixed and late files
    # The walk's outputs in order; a late file's path holds its place.
    walked: list[DetectorOutput | Path] = field(default_factory=list)

    @classmethod
    def start(cls, ctx: ScanContext, make: ReaderFactory) -> _Share:
        try:
            reader = make(ctx)
            return cls(reader, fixed=reader.fixed())
        except Exception as exc:  # a bug in one reader must not cost the other its files
            return cls(None, error=exc)

    def walking(self) -> bool:
        return bool(self._call(lambda reader: reader.walking()))

    def in_folder(self, folder: Path, files: list[Path]) -> dict[Path, int]:
        return self._call(lambda reader: reader.in_folder(folder, files)) or {}

    def give(self, path: Path, text: str, problem: Unreadable | None) -> DetectorOutput | None:
        if problem is None:
            return self._call(lambda reader: reader.read(path, text))
        return self._call(lambda reader: reader.unread(path, problem))

    def _call(self, step: Callable[[TextReader], T]) -> T | None:
        """The step's result, or None once this reader has failed (now or before)."""
        if self.reader is None:
            return None
        try:
            return step(self.reader)
        except Exception as exc:  # a bug in one reader must not cost the other its files
            self.fail(exc)
            return None

    def fail(self, exc: Exception) -> None:
        logger.debug("file pass: reader %s failed", type(self.reader).__name__, exc_info=exc)
        self.reader, self.error = None, exc
        self.outputs, self.walked = {}, []

    def takes(self, path: Path) -> bool:
        return self.reader is not None and (path in self.fixed or path in self.late)

    def bound(self, path: Path) -> int:
        return self.fixed.get(path) or self.late[path]

    def outcome(self) -> Outcome:
        """Its output in its own order: known places, then the walk, then what it adds."""
        if self.error is not None:
            return self.error
        out = DetectorOutput()
        for path in self.fixed:
            out.extend(self.outputs.get(path) or DetectorOutput())
        for item in self.walked:
            walked = self.outputs.get(item) if isinstance(item, Path) else item
            out.extend(walked or DetectorOutput())
        out.extend(self._call(lambda reader: reader.finish()) or DetectorOutput())
        return self.error or out


def _walk(ctx: ScanContext, shares: list[_Share], fixed: dict[Path, None]) -> None:
    """The project folders, listed once for every reader still walking; a file that is at
    a known place for some reader is left for the read of those, in its place in order."""
    for folder in project_dirs(ctx):
        walking = [s for s in shares if s.walking()]
        if not walking:
            return
        files = files_in(folder)
        takers: dict[Path, list[tuple[_Share, int]]] = {}
        for share in walking:
            for path, limit in share.in_folder(folder, files).items():
                takers.setdefault(path, []).append((share, limit))
        for path in (p for p in files if p in takers):  # the folder's order is each reader's
            if path in fixed:
                for share, limit in takers[path]:
                    share.late[path] = limit
                    share.walked.append(path)
                continue
            for share, out in _read(path, takers[path]):
                share.walked.append(out)


def _read(path: Path, takers: list[tuple[_Share, int]]) -> list[tuple[_Share, DetectorOutput]]:
    """One read of a file for every reader that takes it; each one's output (none when
    empty), as if it had read the file alone within its own bound."""
    if not takers:
        return []
    problem: Unreadable | None = None
    text, size = "", 0
    try:
        text, size = read_sized(path, max(limit for _, limit in takers))
    except Unreadable as exc:
        problem = exc
    except Exception as exc:  # as when each read it: a read that breaks fails every taker
        for share, _ in takers:
            share.fail(exc)
        return []

    found: list[tuple[_Share, DetectorOutput]] = []
    for share, limit in takers:
        unread = problem or (too_large(path, limit, size) if size > limit else None)
        out = share.give(path, text, unread)
        if out is not None and (out.findings or out.warnings):
            found.append((share, out))
    return found
