"""``/search``: one box for every list (vendors, people, devices, findings, grants, ...)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shadowmap.server import inventory, page_data
from shadowmap.server.deps import DbSession, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)

# A search longer than this is refused as malformed rather than scanned.
MAX_QUERY = 200


@router.get("/search")
def search(request: Request, session: DbSession, me: PageUser, q: str = "") -> Response:
    query = q.strip()[:MAX_QUERY]
    results = page_data.search(session, inventory.build(session), query)
    return page(request, "search.html", {"q": query, "results": results}, me)
