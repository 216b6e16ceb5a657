"""The pages' front door: the overview at ``/``, sign-in (account, admin token, or the
OIDC button that routes/ui_oidc.py serves), sign-out.

Every string on a page came from an endpoint or an IdP and is untrusted: Jinja2 escapes it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shadowmap.server import accounts, auth, conclusions, inventory, page_data, views
from shadowmap.server.deps import AppSettings, DbSession, PageUser, SameOrigin, session_principal
from shadowmap.server.render import page

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)

# After the POST, the browser GETs the next page (303 See Other, RFC 9110 15.4.4).
SEE_OTHER = 303
# How many conclusions, devices and open findings the overview lists before "see all".
OVERVIEW_CONCLUSIONS = 12
OVERVIEW_ROWS = 50


@router.get("/")
def overview(request: Request, session: DbSession, me: PageUser) -> Response:
    built = inventory.build(session)
    found = conclusions.derive(built)
    context = {
        "summary": views.summary(built, found),
        "conclusions": [views.conclusion_row(c) for c in found[:OVERVIEW_CONCLUSIONS]],
        "more": max(0, len(found) - OVERVIEW_CONCLUSIONS),
        "vendors": [views.vendor_row(v) for v in built.vendors.values() if v.in_catalog][:10],
        "devices": page_data.device_rows(built)[:OVERVIEW_ROWS],
        "findings": [
            row for row in page_data.finding_rows(session, built) if row["status"] == "open"
        ][:OVERVIEW_ROWS],
    }
    return page(request, "overview.html", context, me)


@router.get("/login")
def login_form(request: Request, settings: AppSettings, session: DbSession) -> Response:
    if session_principal(request, settings, session) is not None:
        return RedirectResponse("/", status_code=SEE_OTHER)
    return login_page(request, settings)


def login_page(
    request: Request,
    settings: AppSettings,
    status: int = 200,
    *,
    failed: bool = False,
    problem: str | None = None,
) -> Response:
    """The login page; ``problem`` is a plain message for the person (a refused OIDC sign-in)."""
    oidc_name = settings.oidc.name if settings.oidc else None
    context = {"failed": failed, "problem": problem, "oidc_name": oidc_name}
    return page(request, "login.html", context, None, status)


def start_session(response: Response, settings: AppSettings, name: str) -> None:
    """Sets the signed session cookie for the account ``name`` (or the admin token's)."""
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.new_session(settings, name),
        max_age=auth.SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=settings.tls,
    )


@router.post("/login", dependencies=[SameOrigin])
def login(
    request: Request,
    settings: AppSettings,
    session: DbSession,
    token: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    name = _signed_in_as(settings, session, token, username, password)
    if name is None:
        logger.info("refused a sign-in")
        return login_page(request, settings, 401, failed=True)

    response = RedirectResponse("/", status_code=SEE_OTHER)
    start_session(response, settings, name)
    return response


def _signed_in_as(
    settings: AppSettings, session: DbSession, token: str, username: str, password: str
) -> str | None:
    if token:
        return auth.BOOTSTRAP_NAME if auth.admin_token_matches(settings, token) else None
    if not username or not password:
        return None
    account = accounts.authenticate(session, username, password)
    return account.username if account else None


@router.post("/logout", dependencies=[SameOrigin])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, httponly=True, samesite="strict")
    return response
