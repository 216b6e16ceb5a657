"""Parses MCP client files (JSON, JSONC, TOML, YAML) and finds the server maps in them.

Pure functions over text and data: no reading, no evidence, no finding.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from typing import Any

import json5
import yaml

# Errors a malformed file raises, reported as a warning by the caller.
PARSE_ERRORS = (ValueError, tomllib.TOMLDecodeError, yaml.YAMLError, RecursionError)
COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/|#[^\n]*", re.S)
# What a server entry has that other objects do not (for flat maps of servers).
SERVER_KEYS = frozenset({"command", "cmd", "url", "serverUrl", "httpUrl", "address", "uri", "type"})


def parse_document(text: str, fmt: str) -> Any:
    """A config file's data; empty and comment-only files are an empty mapping."""
    if not COMMENTS.sub("", text).strip():
        return {}
    if fmt in ("json", "jsonc"):
        return json5.loads(text)
    if fmt == "toml":
        return tomllib.loads(text)
    return yaml.safe_load(text) or {}


def dig(node: Any, path: str) -> Any:
    """The value at a "/"-separated path of keys, or None."""
    for key in path.split("/"):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def server_maps(data: Any, servers_at: tuple[str, ...]) -> Iterator[tuple[list[str], Any]]:
    """(pointer parts, server map) for each place the signature names; "." (the whole
    file is one flat map of servers) only when no named place is there."""
    found = False
    for spec in servers_at:
        if spec == ".":
            continue
        for trail, node in _walk(data, spec.split("/"), []):
            found = True
            yield trail, node
    if not found and "." in servers_at and isinstance(data, dict):
        flat = {k: v for k, v in data.items() if isinstance(v, dict) and SERVER_KEYS & set(v)}
        if flat:
            yield [], flat


def _walk(node: Any, keys: list[str], trail: list[str]) -> Iterator[tuple[list[str], Any]]:
    if not keys:
        yield trail, node
        return
    if not isinstance(node, dict):
        return
    head, rest = keys[0], keys[1:]
    names = [k for k in node if isinstance(k, str)] if head == "*" else [head]
    for name in names:
        if name in node:
            yield from _walk(node[name], rest, [*trail, name])


def entries(server_map: Any) -> Iterator[tuple[str, Any]]:
    """(name, entry) for a map of servers, or a list of {name, ...} (Continue)."""
    if isinstance(server_map, dict):
        yield from ((str(k), v) for k, v in server_map.items())
    elif isinstance(server_map, list):
        for index, item in enumerate(server_map):
            name = item.get("name") if isinstance(item, dict) else None
            yield (str(name) if name else f"#{index}"), item


def pointer(parts: list[str]) -> str:
    """An RFC 6901 JSON pointer."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
