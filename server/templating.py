"""The Jinja2 environment of the pages and the HTML report: autoescape on, strict undefined.

Every string from an endpoint or an IdP is untrusted; only chart.py's SVG, which escapes
its own labels, is passed through as markup.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi.templating import Jinja2Templates

logger = logging.getLogger(__name__)

# Shipped as package data (pyproject.toml).
TEMPLATES_DIR = Path(__file__).parent / "templates"


def page_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["query"] = query
    return Jinja2Templates(env=env)


def when(value: datetime | str | None) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def day(value: datetime | str | None) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d") if value else "—"


def query(params: dict[str, object], **changes: object) -> str:
    """The query string of params with some changed: for filter and export links."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return urlencode(merged)
