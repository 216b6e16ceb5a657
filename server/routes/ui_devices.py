"""The device and repository pages: the fleet, one page per device (its person, how they
were joined, its findings) and one per repository scanned by scan-repo."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shadowmap.server import inventory, page_data
from shadowmap.server.deps import DbSession, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/devices")
def devices(request: Request, session: DbSession, me: PageUser, q: str = "") -> Response:
    built = inventory.build(session)
    context = {
        "rows": page_data.filtered(page_data.rows_of(session, "devices", built), q),
        "repositories": page_data.filtered(page_data.rows_of(session, "repositories", built), q),
    }
    return page(request, "devices.html", context, me)


@router.get("/devices/{device_id}")
def device(request: Request, session: DbSession, me: PageUser, device_id: str) -> Response:
    document = page_data.device_detail(session, inventory.build(session), device_id)
    return page(request, "device.html", {"d": document}, me)


@router.get("/repositories/{repository_id}")
def repository(request: Request, session: DbSession, me: PageUser, repository_id: str) -> Response:
    document = page_data.repository_detail(session, inventory.build(session), repository_id)
    return page(request, "repository.html", {"r": document}, me)
