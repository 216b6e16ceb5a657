"""Named false-positive filters: each drops one kind of look-alike, and every report lists
the names it applied (filters_used), so that a scan can be reproduced. Values stay in memory.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from shadowmap.agent.secret_rules import Rule

logger = logging.getLogger(__name__)

# Runs that mark a placeholder rather than a key (research/secrets-anchors.md section 5).
PLACEHOLDER_RUN = re.compile(r"(?i)x{5,}|0{8,}|\*{3,}|(.)\1{7,}")
PLACEHOLDER_WORDS = ("your", "example", "placeholder", "redacted", "dummy", "changeme")
# detect-secrets' is_sequential_string and kingfisher's safe-list (abcdefghij, 123456789).
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789")
SEQUENCE_RUN = 8
# What comes right before a templated value: ${VAR}, {{ var }}, $VAR, %VAR% (gitleaks'
# global allowlist; detect-secrets' is_templated_secret).
TEMPLATE_OPENERS = ("${", "{{", "$", "%", "<")
# Inline allowlist comments: ours, and detect-secrets' (`pragma: allowlist secret`, and
# `pragma: allowlist nextline secret` on the line before).
ALLOW_SAME_LINE = ("shadowmap:allow", "pragma: allowlist secret")
ALLOW_NEXT_LINE = ("shadowmap:allow-next-line", "pragma: allowlist nextline secret")
# A value inside a base64 run this much longer than itself is embedded data (notebook
# images, data: URIs; detect-secrets issue #384), not a key written there.
BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
BASE64_RUN = re.compile(f"[{re.escape(BASE64_ALPHABET)}]*")
EMBEDDED_MIN_RUN = 256
# Words that name a digest; a context kind's value right after one is a checksum (gitleaks
# FPs on cache_key = "<sha256>", detect-secrets IBM fork #146 on integrity="sha512-...").
CHECKSUM_WORDS = re.compile(
    r"(?i)sha1|sha256|sha512|md5|checksum|integrity|hash|digest|commit|revision|etag"
)
CHECKSUM_WINDOW = 40
# Lock files hold checksums by the thousand (detect-secrets' is_lock_file list).
LOCK_FILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
        "poetry.lock", "pipfile.lock", "uv.lock", "pdm.lock", "cargo.lock", "go.sum",
        "gemfile.lock", "composer.lock", "packages.lock.json", "bun.lock", "flake.lock",
    }
)  # fmt: skip
# Minified code packs everything on one line, so a vendor word and a random-looking
# token fall in one window by chance; only context kinds are held back there.
MINIFIED_LINE = 1000
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".css", ".map")


@dataclass(frozen=True)
class Candidate:
    """A value a rule matched, where it sits in its text; never shown or logged."""

    rule: Rule
    value: str
    text: str
    start: int
    end: int
    path: str | None = None

    def __repr__(self) -> str:  # never show the value
        return f"Candidate({self.rule.signature.id}, at={self.start})"

    def line_bounds(self) -> tuple[int, int]:
        begin = self.text.rfind("\n", 0, self.start) + 1
        end = self.text.find("\n", self.end)
        return begin, len(self.text) if end < 0 else end


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value).values()
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts)


def _placeholder(c: Candidate) -> bool:
    lowered = c.value.lower()
    return bool(PLACEHOLDER_RUN.search(c.value)) or any(w in lowered for w in PLACEHOLDER_WORDS)


def _sequential(c: Candidate) -> bool:
    lowered = c.value.lower()
    return any(
        alphabet[i : i + SEQUENCE_RUN] in lowered
        for alphabet in SEQUENCES
        for i in range(len(alphabet) - SEQUENCE_RUN + 1)
    )


def _documented_example(c: Candidate) -> bool:
    if not c.rule.examples:
        return False
    return hashlib.sha256(c.value.encode("utf-8")).hexdigest() in c.rule.examples


CLASS_TESTS: dict[str, Callable[[str], bool]] = {
    "digit": lambda v: any(ch.isdigit() for ch in v),
    "upper": lambda v: any(ch.isupper() for ch in v),
    "lower": lambda v: any(ch.islower() for ch in v),
}


def _low_entropy(c: Candidate) -> bool:
    if any(not CLASS_TESTS[name](c.value) for name in c.rule.char_classes):
        return True
    return bool(c.rule.min_entropy) and entropy(c.value) < c.rule.min_entropy


def _template(c: Candidate) -> bool:
    before = c.text[max(0, c.start - 2) : c.start]
    return any(before.endswith(opener) for opener in TEMPLATE_OPENERS)


def _allowlist_comment(c: Candidate) -> bool:
    begin, end = c.line_bounds()
    if any(mark in c.text[begin:end] for mark in ALLOW_SAME_LINE):
        return True
    previous = c.text[c.text.rfind("\n", 0, max(0, begin - 1)) + 1 : max(0, begin - 1)]
    return any(mark in previous for mark in ALLOW_NEXT_LINE)


def _embedded_data(c: Candidate) -> bool:
    after = BASE64_RUN.match(c.text, c.end)
    window = c.text[max(0, c.start - EMBEDDED_MIN_RUN) : c.start]
    before = len(window) - len(window.rstrip(BASE64_ALPHABET))
    run = before + len(c.value) + (after.end() - c.end if after else 0)
    return run >= max(EMBEDDED_MIN_RUN, 2 * len(c.value))


def _checksum(c: Candidate) -> bool:
    if not c.rule.grouped:
        return False
    begin, _ = c.line_bounds()
    return bool(CHECKSUM_WORDS.search(c.text, max(begin, c.start - CHECKSUM_WINDOW), c.start))


def _lock_file(c: Candidate) -> bool:
    return (
        c.rule.grouped and c.path is not None and PurePosixPath(c.path).name.lower() in LOCK_FILES
    )


def _minified(c: Candidate) -> bool:
    if not c.rule.grouped:
        return False
    begin, end = c.line_bounds()
    script = c.path is None or c.path.endswith(SCRIPT_SUFFIXES) or ".min." in c.path
    return script and end - begin > MINIFIED_LINE


# Every filter by the name that reports list; a candidate any of them accepts is dropped.
FILTERS: dict[str, Callable[[Candidate], bool]] = {
    "placeholder": _placeholder,
    "sequential": _sequential,
    "documented_example": _documented_example,
    "low_entropy": _low_entropy,
    "template": _template,
    "allowlist_comment": _allowlist_comment,
    "embedded_data": _embedded_data,
    "checksum": _checksum,
    "lock_file": _lock_file,
    "minified": _minified,
}


def dropped_by(candidate: Candidate) -> str | None:
    """The name of the first filter that drops the candidate, or None to keep it."""
    return next((name for name, check in FILTERS.items() if check(candidate)), None)
