"""The vendor pages: the list, one page per vendor (trust, apps, grants, devices, MCP
servers, keys, conclusions), and an admin's decision form."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shadowmap.server import inventory, page_data, vendor_settings
from shadowmap.server.deps import CheckedForm, DbSession, PageAdmin, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/vendors")
def vendors(
    request: Request, session: DbSession, me: PageUser, q: str = "", sanctioned: str = ""
) -> Response:
    rows = page_data.filtered(page_data.rows_of(session, "vendors"), q)
    if sanctioned in ("yes", "no"):
        rows = [r for r in rows if r["sanctioned"] is (sanctioned == "yes")]
    return page(request, "vendors.html", {"rows": rows}, me)


@router.get("/vendors/{key}")
def vendor(request: Request, session: DbSession, me: PageUser, key: str) -> Response:
    document = page_data.vendor_detail(inventory.build(session), key)
    return page(request, "vendor.html", {"v": document}, me)


@router.post("/vendors/{key}/decision")
def decide(key: str, session: DbSession, me: PageAdmin, form: CheckedForm) -> Response:
    vendor_settings.decide(session, key, me.name, vendor_settings.from_form(form))
    return RedirectResponse(f"/vendors/{key}", status_code=303)
