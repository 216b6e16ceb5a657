"""The pages: the overview at ``/`` behind a login with the admin token, and logout.

Every string on a page came from an endpoint and is untrusted: Jinja2 escapes all of it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shadowmap.agent.models import FindingKind, Severity
from shadowmap.server import auth, queries
from shadowmap.server.deps import AppSettings, DbSession, LoginOnly
from shadowmap.server.schemas import DeviceOut, FindingOut

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)

# After the POST, the browser GETs the next page (303 See Other, RFC 9110 15.4.4).
SEE_OTHER = 303


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


@router.get("/", dependencies=[LoginOnly])
def overview(request: Request, session: DbSession) -> Response:
    devices = queries.list_devices(session)
    findings = queries.list_findings(session)
    context = {"devices": devices, "findings": findings, "summary": _summary(devices, findings)}
    return _templates(request).TemplateResponse(request, "overview.html", context)


def _summary(devices: list[DeviceOut], findings: list[FindingOut]) -> dict[str, int]:
    return {
        "devices": len(devices),
        "open": len(findings),
        "urgent": sum(f.severity.rank >= Severity.HIGH.rank for f in findings),
        "secrets": sum(f.kind is FindingKind.SECRET for f in findings),
    }


@router.get("/login")
def login_form(request: Request, settings: AppSettings) -> Response:
    if auth.session_valid(settings, request.cookies.get(auth.SESSION_COOKIE)):
        return RedirectResponse("/", status_code=SEE_OTHER)
    return _templates(request).TemplateResponse(request, "login.html", {"failed": False})


@router.post("/login")
def login(request: Request, settings: AppSettings, token: Annotated[str, Form()] = "") -> Response:
    if not auth.admin_token_matches(settings, token):
        logger.info("refused a sign-in: wrong admin token")
        context = {"failed": True}
        return _templates(request).TemplateResponse(request, "login.html", context, 401)

    response = RedirectResponse("/", status_code=SEE_OTHER)
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.new_session(settings),
        max_age=auth.SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=settings.tls,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, httponly=True, samesite="strict")
    return response
