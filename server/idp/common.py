"""What the connectors share: reading export files, times, domains, booleans, scope lists.

Reads only; a file that cannot be used is IdpFileInvalid with the next step.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shadowmap.server.idp.interface import IdpError, IdpFileInvalid

logger = logging.getLogger(__name__)

# An export over this size is refused rather than read into memory (100k users' grants
# fit in far less).
MAX_EXPORT_BYTES = 256 * 1024 * 1024
# Spellings of true in CSV exports: GAM prints Python's True, PowerShell prints True.
TRUE_WORDS = frozenset({"true", "yes", "1"})
# The next step for a file that is not an export an IdP writes.
AGAIN = "export it again"


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise IdpFileInvalid(f"{path} is over {MAX_EXPORT_BYTES} bytes", hint="split it")
        # utf-8-sig: Export-Csv on Windows PowerShell writes a byte order mark.
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise IdpFileInvalid(f"cannot read {path}: {reason}", hint="check --file") from None


def sniff(path: Path) -> tuple[str, Any]:
    """("json", data) or ("csv", rows as dicts); IdpFileInvalid for anything else."""
    text = read_text(path)
    if "\x00" in text:
        raise IdpFileInvalid(f"{path} holds NUL characters: not a text export", hint=AGAIN)
    if text.lstrip().startswith(("{", "[")):
        return "json", _json(path, text)
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:  # a cell over csv.field_size_limit(), say
        raise IdpFileInvalid(f"{path} is not CSV an IdP writes: {exc}", hint=AGAIN) from None
    if not rows:
        raise IdpFileInvalid(f"{path} holds no rows", hint=AGAIN)
    return "csv", rows


def _json(path: Path, text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IdpFileInvalid(f"{path} is not valid JSON (line {exc.lineno})", hint=AGAIN) from None
    except (RecursionError, ValueError):
        # Deeper than the interpreter's recursion limit, or an integer of more than
        # sys.get_int_max_str_digits() digits: neither is an IdP's export.
        raise IdpFileInvalid(
            f"{path} is nested too deeply or holds too long a number", hint=AGAIN
        ) from None
    if not storable(text, data):
        raise IdpFileInvalid(
            f"{path} holds a \\u0000 or a lone surrogate escape: not an IdP's export", hint=AGAIN
        )
    return data


def storable(text: str, data: Any) -> bool:
    """Whether every string in ``data``, parsed from the JSON ``text``, can be stored: no
    NUL (PostgreSQL refuses it) and no lone surrogate (it has no UTF-8). Only a \\u escape
    makes either, so a text without one is not walked; the walk does not recurse."""
    if "\\u" not in text:
        return True
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node or not _utf8(node):
                return False
        elif isinstance(node, dict):
            stack += [*node, *node.values()]
        elif isinstance(node, list):
            stack += node
    return True


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time as an aware UTC datetime; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def domain_of(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    return host.lower().removeprefix("www.") if host else None


def domains(*urls: object) -> tuple[str, ...]:
    found = [d for d in (domain_of(u) for u in urls) if d]
    return tuple(dict.fromkeys(found))


def split_scopes(value: object) -> tuple[str, ...]:
    """Scopes from a list, or a string split on whitespace (Graph pads it with spaces)."""
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    else:
        items = str(value or "").split()
    return tuple(dict.fromkeys(s for s in items if s))


def text_or_none(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def lower_email(value: object) -> str | None:
    text = text_or_none(value)
    return text.lower() if text and "@" in text else None


def path_only(url: str) -> str:
    """A URL without its query: query strings carry filters and page tokens, so a message
    names the path only."""
    return url.split("?", 1)[0]


def as_dict(value: object) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (log shapes vary)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


class PageTrail:
    """The pages one listing has asked for. A next-page link that leads back to one of
    them would page for ever, so it stops the sweep instead (IdpError)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def visit(self, url: str, query: dict[str, str] | None = None) -> None:
        key = (url, tuple(sorted((query or {}).items())))
        if key in self._seen:
            raise IdpError(
                f"the IdP's next page of {path_only(url)} is one it sent before",
                hint="its paging loops; try again later, or import exported files instead",
            )
        self._seen.add(key)
