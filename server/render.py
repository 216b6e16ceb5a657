"""Renders a page: the template, who is signed in, their CSRF token and the active tab.

The one place pages get their common context, so every form carries its CSRF token.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from shadowmap.server import auth
from shadowmap.server.accounts import Principal

logger = logging.getLogger(__name__)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    principal: Principal | None,
    status: int = 200,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    data = auth.read_session(request.app.state.settings, request.cookies.get(auth.SESSION_COOKIE))
    common = {
        "me": principal,
        "csrf": data.csrf if data else "",
        "params": dict(request.query_params),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**common, **context}, status_code=status)
