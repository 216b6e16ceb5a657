"""Reads files and walks folders under a home or root; never writes, never follows links out.

Every read is bounded in size, and a file that cannot be read is an ``Unreadable``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from shadowmap.agent.sources.interface import Unreadable

logger = logging.getLogger(__name__)

# Config and dotfiles are small; anything larger is not what we look for (snyk agent-scan
# skips MCP files over 20 MiB; we stay well under that for dotfiles).
MAX_CONFIG_BYTES = 5 * 1024 * 1024
# Folders a project walk never enters: dependencies, caches, VCS data, OS libraries.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".npm",
        ".cargo",
        ".rustup",
        ".gradle",
        ".m2",
        "site-packages",
        "dist",
        "build",
        "target",
        "Library",
        "AppData",
        ".local",
        ".Trash",
        "snap",
        ".pyenv",
        ".nvm",
        ".bun",
        ".docker",
        "vendor",
    }
)


def read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """A file's text, or Unreadable (missing, too large, binary, denied, not UTF-8)."""
    return read_sized(path, limit)[0]


def read_sized(path: Path, limit: int) -> tuple[str, int]:
    """A file's text and its size in bytes, or Unreadable, as read_text: one read that
    serves readers with different bounds (the caller checks each one's bound)."""
    try:
        if not path.is_file():
            raise Unreadable(str(path), "not a regular file")
        size = path.stat().st_size
        if size > limit:
            raise too_large(path, limit, size)
        data = path.read_bytes()
    except PermissionError:
        raise Unreadable(str(path), "permission denied") from None
    except OSError as exc:
        raise Unreadable(str(path), exc.strerror or "cannot be read") from None
    if b"\x00" in data[:8192]:
        raise Unreadable(str(path), "binary content")
    return as_text(data), size


def too_large(path: Path, limit: int, size: int) -> Unreadable:
    return Unreadable(str(path), f"larger than {limit} bytes ({size})")


def as_text(data: bytes) -> str:
    """Bytes as text: UTF-8 (a byte-order mark dropped), else latin-1, which never fails."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def walk_dirs(top: Path, max_depth: int) -> Iterator[Path]:
    """Folders under top (top included), breadth-bounded, skipping SKIP_DIRS and links."""
    stack: list[tuple[Path, int]] = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        yield folder
        if depth >= max_depth:
            continue
        try:
            with os.scandir(folder) as entries:
                children = [
                    Path(e.path)
                    for e in entries
                    if e.is_dir(follow_symlinks=False) and e.name not in SKIP_DIRS
                ]
        except OSError as exc:
            logger.debug("skipped %s: %s", folder, exc.strerror)
            continue
        stack.extend((child, depth + 1) for child in sorted(children, reverse=True))


def files_in(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.is_file(follow_symlinks=False))
    except OSError:
        return []
