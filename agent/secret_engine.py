"""Finds credential values and secret-store references in text, for every caller alike.

Each signature is also a detect-secrets plugin (plugin_for), so the kinds plug into that
framework; here one keyword prefilter pass (agent/prefilter.py) picks the kinds worth
running, their patterns run, and the named filters (agent/secret_filters.py) drop
look-alikes. Values are handed back in memory only; callers turn them into evidence at once.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shadowmap.agent.prefilter import Prefilter
from shadowmap.agent.secret_filters import FILTERS, Candidate, dropped_by
from shadowmap.agent.secret_rules import (
    WORD_CHARS,
    CompiledPack,
    ReferenceRule,
    Rule,
    bounded,
    compiled,
)
from shadowmap.signatures import SecretSignature, SignaturePack

if TYPE_CHECKING:
    from detect_secrets.plugins.base import RegexBasedDetector

logger = logging.getLogger(__name__)

__all__ = ["FILTERS", "ReferenceMatch", "SecretEngine", "SecretMatch", "plugin_for"]

# The name a reference is assigned to, on its own line: `export NAME=`, `NAME:`, `"NAME":`.
ASSIGNED_NAME = re.compile(r"""["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:)[^=:]*$""")


def plugin_for(signature: SecretSignature) -> RegexBasedDetector:
    """A detect-secrets plugin for one signature (a class per kind, made when asked)."""
    from detect_secrets.plugins.base import RegexBasedDetector

    cls = type(
        f"Shadowmap_{signature.id.replace('-', '_')}",
        (RegexBasedDetector,),
        {"secret_type": signature.name, "denylist": (re.compile(bounded(signature.pattern)),)},
    )
    return cls()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SecretMatch:
    signature: SecretSignature
    value: str
    line: int
    column: int

    def __repr__(self) -> str:  # never show the value
        return f"SecretMatch({self.signature.id}, line={self.line})"


@dataclass(frozen=True)
class ReferenceMatch:
    """A credential named by reference: the store and the variable, never the text."""

    rule: ReferenceRule
    name: str | None
    line: int
    column: int


@dataclass(frozen=True)
class _Index:
    """One prefilter for every kind and reference; keyword id to the entries it opens."""

    prefilter: Prefilter
    opens: tuple[tuple[int, ...], ...]


_INDEXES: dict[str, _Index] = {}


def _index(version: str, pack: CompiledPack) -> _Index:
    if version not in _INDEXES:
        entries: list[tuple[str, ...]] = [r.signature.keywords for r in pack.rules]
        entries += [r.keywords for r in pack.references]
        keywords: dict[str, list[int]] = {}
        for position, words in enumerate(entries):
            for word in words:
                keywords.setdefault(word.lower(), []).append(position)
        prefilter = Prefilter(list(keywords))
        logger.debug("keyword prefilter: %s, %d keywords", prefilter.backend, len(keywords))
        _INDEXES[version] = _Index(prefilter, tuple(tuple(v) for v in keywords.values()))
    return _INDEXES[version]


class SecretEngine:
    def __init__(self, pack: SignaturePack) -> None:
        self.signatures = pack.secrets
        self._pack = compiled(pack)
        self._index = _index(pack.version, self._pack)

    @property
    def backend(self) -> str:
        return self._index.prefilter.backend

    def candidates(self, data: bytes) -> frozenset[int]:
        """Which kinds and references (by position) a text's bytes may hold."""
        found = self._index.prefilter.found(data)
        return frozenset(p for kid in found for p in self._index.opens[kid])

    def find(
        self, text: str, path: str | None = None, hits: frozenset[int] | None = None
    ) -> Iterator[SecretMatch]:
        """Every credential in text; hits, when given, are candidates() of its bytes."""
        hits = self._hits(text, hits)
        rules = [r for p, r in enumerate(self._pack.rules) if p in hits]
        if not rules:
            return
        line_starts: list[int] = []
        taken: set[int] = set()  # offsets inside values already reported
        for rule in rules:
            for start, end in self._spans(rule, text, path):
                if not taken.isdisjoint(range(start, end)):
                    continue  # an anchored kind already named this value
                taken.update(range(start, end))
                line_starts = line_starts or _line_starts(text)
                line, column = _position(line_starts, start)
                yield SecretMatch(rule.signature, text[start:end], line, column)

    def references(self, text: str, hits: frozenset[int] | None = None) -> Iterator[ReferenceMatch]:
        """Every secret-store reference in text, with the name it is assigned to."""
        hits = self._hits(text, hits)
        offset = len(self._pack.rules)
        wanted = [r for p, r in enumerate(self._pack.references) if p + offset in hits]
        if not wanted:
            return
        line_starts = _line_starts(text)
        for rule in wanted:
            for match in rule.regex.finditer(text):
                line, column = _position(line_starts, match.start())
                before = text[line_starts[line - 1] : match.start()]
                named = ASSIGNED_NAME.search(before)
                yield ReferenceMatch(rule, named.group(1) if named else None, line, column)

    def scrub(self, text: str) -> str:
        """The text with every credential in it replaced by its redacted preview."""
        from shadowmap.agent.redact import preview

        found = {m.value: m.signature for m in self.find(text)}
        for value in sorted(found, key=len, reverse=True):
            text = text.replace(value, preview(value, found[value].public_prefix(value)))
        return text

    def _hits(self, text: str, hits: frozenset[int] | None) -> frozenset[int]:
        if hits is not None:
            return hits
        return self.candidates(text.encode("utf-8", "replace"))

    @staticmethod
    def _spans(rule: Rule, text: str, path: str | None) -> Iterator[tuple[int, int]]:
        companion_seen: bool | None = None
        for match in _matches(rule, text):
            start, end = match.span("secret") if rule.grouped else match.span()
            candidate = Candidate(rule, text[start:end], text, start, end, path)
            dropped = dropped_by(candidate)
            if dropped is not None:
                logger.debug("dropped a %s match (filter %s)", rule.signature.id, dropped)
                continue
            if rule.companion is not None and companion_seen is None:
                companion_seen = rule.companion.search(text) is not None
            if companion_seen is False:
                continue
            yield start, end


def _matches(rule: Rule, text: str) -> Iterator[re.Match[str]]:
    """The rule's matches; a plain pattern's left boundary is checked here (see bounded)."""
    if rule.grouped:
        yield from rule.regex.finditer(text)
        return
    position = 0
    while (match := rule.regex.search(text, position)) is not None:
        start = match.start()
        if start and text[start - 1] in WORD_CHARS:
            position = start + 1
            continue
        yield match
        position = match.end()


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _position(line_starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return index + 1, offset - line_starts[index] + 1
