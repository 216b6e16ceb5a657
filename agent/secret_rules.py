"""Secret kinds compiled for matching: each pattern with its boundaries and the checks it
carries (companion, entropy floor, character classes, documented examples), and the
secret-store references. Built once per signature pack; reads only the pack's YAML.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from shadowmap.agent.errors import SignatureError
from shadowmap.signatures import BUILTIN_DIR, SecretSignature, SignaturePack

logger = logging.getLogger(__name__)

# No letter, digit, "_" or "-" may touch a value on either side; a backslash may (escaped
# quotes in JSON and notebooks, research/secrets-anchors.md section 2: betterleaks'
# terminator `\\?['"\x60]`).
LEFT_EDGE = r"(?<![A-Za-z0-9_-])"
RIGHT_EDGE = r"(?![A-Za-z0-9_-])"
# Characters that may not touch a value on its left (LEFT_EDGE, checked by the engine).
WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# The one capture group a context pattern may have (detect-secrets' RegexBasedDetector
# reports a pattern's groups, so its plugins see the value alone too).
SECRET_GROUP = "(?P<secret>"
# signatures/__init__.py keeps only the fields every pack has; the matching fields of
# signatures/schema/secrets.json are read here from the same, already validated, file.
SECRETS_FILE = "secrets.yaml"


@dataclass(frozen=True)
class Rule:
    """One credential kind, ready to match."""

    signature: SecretSignature
    regex: re.Pattern[str]
    grouped: bool  # the pattern has context; the value is its "secret" group
    companion: re.Pattern[str] | None = None
    min_entropy: float = 0.0
    char_classes: tuple[str, ...] = ()
    examples: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReferenceRule:
    """A way of naming a credential kept in a secret store, without its value."""

    id: str
    store: str
    regex: re.Pattern[str]
    keywords: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class CompiledPack:
    rules: tuple[Rule, ...]
    references: tuple[ReferenceRule, ...]


def bounded(pattern: str, left: bool = True) -> str:
    """The pattern with value boundaries: around it all, or around its secret group.

    left=False leaves the left boundary of a plain pattern to the caller: a lookbehind
    in front hides the pattern's leading literal from `re`'s fast prefix search (30 times
    slower on source code), so the engine checks that one character itself."""
    start = pattern.find(SECRET_GROUP)
    if start < 0:
        return (LEFT_EDGE if left else "") + f"(?:{pattern})" + RIGHT_EDGE
    end = _group_end(pattern, start)
    return pattern[:start] + LEFT_EDGE + pattern[start : end + 1] + RIGHT_EDGE + pattern[end + 1 :]


def _group_end(pattern: str, start: int) -> int:
    """The index of the parenthesis that closes the group opened at start."""
    depth, in_class, index = 0, False, start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise SignatureError(f"secrets.yaml: unbalanced secret group in {pattern!r}")


@cache
def _raw_entries(directory: Path) -> tuple[dict[str, dict[str, Any]], tuple[dict[str, Any], ...]]:
    try:
        text = (directory / SECRETS_FILE).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise SignatureError(f"{directory / SECRETS_FILE}: cannot be read: {exc}") from exc
    kinds = {entry["id"]: entry for entry in data.get("secrets", [])}
    return kinds, tuple(data.get("references", []))


def _rule(signature: SecretSignature, raw: dict[str, Any]) -> Rule:
    companion = raw.get("companion")
    try:
        return Rule(
            signature=signature,
            regex=re.compile(bounded(signature.pattern, left=False)),
            grouped=SECRET_GROUP in signature.pattern,
            companion=re.compile(companion) if companion else None,
            min_entropy=float(raw.get("min_entropy", 0.0)),
            char_classes=tuple(raw.get("char_classes", ())),
            examples=frozenset(raw.get("examples_sha256", ())),
        )
    except re.error as exc:
        raise SignatureError(f"secrets.yaml: {signature.id}: bad pattern: {exc}") from exc


def _reference(raw: dict[str, Any]) -> ReferenceRule:
    try:
        regex = re.compile(raw["pattern"])
    except re.error as exc:
        raise SignatureError(f"secrets.yaml: {raw['id']}: bad pattern: {exc}") from exc
    keywords = tuple(k.lower() for k in raw["keywords"])
    return ReferenceRule(raw["id"], raw["store"], regex, keywords, raw["source"])


_COMPILED: dict[str, CompiledPack] = {}


def compiled(pack: SignaturePack, directory: Path = BUILTIN_DIR) -> CompiledPack:
    """The pack's kinds and references compiled (once per pack version)."""
    if pack.version not in _COMPILED:
        kinds, references = _raw_entries(directory)
        # Kinds with their own prefix go first: where two kinds claim one value, the
        # anchored kind names it, not the one that only saw a vendor word nearby.
        rules = sorted(
            (_rule(s, kinds.get(s.id, {})) for s in pack.secrets), key=lambda r: r.grouped
        )
        _COMPILED[pack.version] = CompiledPack(
            tuple(rules), tuple(_reference(r) for r in references)
        )
    return _COMPILED[pack.version]
