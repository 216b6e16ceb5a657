"""The access chart: who and what can reach which AI, as a page and as a standalone SVG."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shadowmap.server import chart, inventory
from shadowmap.server.deps import DbSession, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/chart")
def chart_page(request: Request, session: DbSession, me: PageUser) -> Response:
    return page(request, "chart.html", {"svg": chart.render_svg(inventory.build(session))}, me)


@router.get("/chart.svg")
def chart_svg(session: DbSession, me: PageUser) -> Response:
    svg = chart.render_svg(inventory.build(session))
    return Response(str(svg), media_type="image/svg+xml")
