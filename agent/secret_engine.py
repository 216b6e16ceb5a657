"""Finds credential values in text, for the secrets detector and scan-repo alike.

Each signature becomes a detect-secrets plugin (so the kinds plug into that framework);
a case-folded keyword prefilter decides which plugins a text is worth. Values found are
handed back in memory only; callers turn them into redacted evidence at once.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from detect_secrets.plugins.base import RegexBasedDetector

from shadowmap.signatures import SecretSignature, SignaturePack

logger = logging.getLogger(__name__)

# No word character or "-" may touch a value on either side; a backslash may (escaped
# quotes in JSON and notebooks, research/secrets-anchors.md section 2).
LEFT_EDGE = r"(?<![A-Za-z0-9_-])"
RIGHT_EDGE = r"(?![A-Za-z0-9_-])"
# Runs that mark a placeholder rather than a key (research/secrets-anchors.md section 5).
PLACEHOLDER_RUN = re.compile(r"(?i)x{5,}|0{8,}|\*{3,}|(.)\1{7,}")
PLACEHOLDER_WORDS = ("your", "example", "placeholder", "redacted", "dummy", "changeme")
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789")
SEQUENCE_RUN = 8


def _sequential(value: str) -> bool:
    lowered = value.lower()
    for alphabet in SEQUENCES:
        for start in range(len(alphabet) - SEQUENCE_RUN + 1):
            if alphabet[start : start + SEQUENCE_RUN] in lowered:
                return True
    return False


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return bool(PLACEHOLDER_RUN.search(value)) or any(w in lowered for w in PLACEHOLDER_WORDS)


# Named false-positive filters; their names go into every report (filters_used).
FILTERS: dict[str, Callable[[str], bool]] = {
    "placeholder": _placeholder,
    "sequential": _sequential,
}


def plugin_for(signature: SecretSignature) -> RegexBasedDetector:
    """A detect-secrets plugin for one signature (a class per kind, made when asked)."""
    compiled = re.compile(LEFT_EDGE + signature.pattern + RIGHT_EDGE)
    cls = type(
        f"Shadowmap_{signature.id.replace('-', '_')}",
        (RegexBasedDetector,),
        {"secret_type": signature.name, "denylist": (compiled,)},
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


class SecretEngine:
    def __init__(self, pack: SignaturePack) -> None:
        self.signatures = pack.secrets

    @cached_property
    def _plugins(self) -> list[tuple[SecretSignature, RegexBasedDetector]]:
        return [(s, plugin_for(s)) for s in self.signatures]

    def might_contain(self, folded: str) -> list[tuple[SecretSignature, RegexBasedDetector]]:
        return [(s, p) for s, p in self._plugins if any(k in folded for k in s.keywords)]

    def find(self, text: str) -> Iterator[SecretMatch]:
        candidates = self.might_contain(text.lower())
        if not candidates:
            return
        line_starts = _line_starts(text)
        for signature, plugin in candidates:
            for regex in plugin.denylist:
                for match in regex.finditer(text):
                    value = match.group(0)
                    if any(check(value) for check in FILTERS.values()):
                        continue
                    line, column = _position(line_starts, match.start())
                    yield SecretMatch(signature, value, line, column)

    def scrub(self, text: str) -> str:
        """The text with every credential in it replaced by its redacted preview."""
        from shadowmap.agent.redact import preview

        for match in sorted(set(m.value for m in self.find(text)), key=len, reverse=True):
            signature = next(m.signature for m in self.find(match))
            text = text.replace(match, preview(match, signature.public_prefix(match)))
        return text


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _position(line_starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return index + 1, offset - line_starts[index] + 1
