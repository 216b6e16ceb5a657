"""Test assets, with credential values rebuilt from their stored form: reversed, and cut
by "~" every few characters so that no scanner, not even a context rule, sees a key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent / "assets"
ENCODED = re.compile(r"@@REV:(.*?)@@", re.S)


def decode(text: str) -> str:
    return ENCODED.sub(lambda m: m.group(1).replace("~", "")[::-1], text)


def encode(value: str) -> str:
    """The stored form of a value (used once, to write the assets)."""
    reversed_ = value[::-1]
    return "@@REV:" + "~".join(reversed_[i : i + 5] for i in range(0, len(reversed_), 5)) + "@@"


def text(rel: str) -> str:
    return decode((ASSETS / rel).read_text(encoding="utf-8"))


def mcp_manifest() -> list[dict[str, Any]]:
    return json.loads(text("mcp/manifest.json"))  # type: ignore[no-any-return]


def secret_cases() -> list[dict[str, Any]]:
    lines = text("secrets/cases.jsonl").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
