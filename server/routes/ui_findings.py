"""The list pages with filters and search: findings (devices and repositories), IdP
grants, and the conclusions drawn from both."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shadowmap.server import page_data
from shadowmap.server.deps import DbSession, PageUser
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/findings")
def findings(
    request: Request,
    session: DbSession,
    me: PageUser,
    q: str = "",
    severity: str = "",
    kind: str = "",
    status: str = "open",
    vendor: str = "",
) -> Response:
    rows = page_data.rows_of(session, "findings")
    shown = page_data.filtered(
        rows,
        q,
        severity=severity,
        kind=kind,
        vendor=vendor,
        status="" if status == "all" else status,
    )
    kinds = sorted({str(r["kind"]) for r in rows})
    return page(request, "findings.html", {"rows": shown, "kinds": kinds, "total": len(rows)}, me)


@router.get("/grants")
def grants(
    request: Request,
    session: DbSession,
    me: PageUser,
    q: str = "",
    provider: str = "",
    status: str = "active",
    vendor: str = "",
) -> Response:
    rows = page_data.rows_of(session, "grants")
    shown = page_data.filtered(
        rows, q, provider=provider, vendor=vendor, status="" if status == "all" else status
    )
    return page(request, "grants.html", {"rows": shown, "total": len(rows)}, me)


@router.get("/conclusions")
def conclusions(
    request: Request,
    session: DbSession,
    me: PageUser,
    q: str = "",
    severity: str = "",
    kind: str = "",
) -> Response:
    rows = page_data.rows_of(session, "conclusions")
    shown = page_data.filtered(rows, q, severity=severity, kind=kind)
    return page(
        request, "conclusions.html", {"rows": shown, "kinds": sorted({r["kind"] for r in rows})}, me
    )
