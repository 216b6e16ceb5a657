"""The people pages: everyone the IdPs and enrolments know, and one page per person with
their identities, grants, devices (and why each is theirs) and conclusions."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shadowmap.server import inventory, page_data
from shadowmap.server.deps import DbSession, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/people")
def people(
    request: Request, session: DbSession, me: PageUser, q: str = "", status: str = ""
) -> Response:
    rows = page_data.filtered(page_data.rows_of(session, "people"), q, status=status)
    return page(request, "people.html", {"rows": rows}, me)


@router.get("/people/{person_id}")
def person(request: Request, session: DbSession, me: PageUser, person_id: int) -> Response:
    document = page_data.person_detail(session, inventory.build(session), person_id)
    return page(request, "person.html", {"p": document}, me)
