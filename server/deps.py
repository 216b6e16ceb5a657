"""FastAPI dependencies as short ``Annotated`` aliases: settings, a session, who is asking.

Body readers enforce size limits on the bytes actually read, not only on Content-Length.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shadowmap.server import accounts, auth
from shadowmap.server.accounts import Principal
from shadowmap.server.enrollment import device_for_token
from shadowmap.server.errors import (
    AdminTokenInvalid,
    CsrfInvalid,
    Forbidden,
    LoginRequired,
    NodeInvalid,
    PayloadTooLarge,
    RequestInvalid,
    describe_problems,
)
from shadowmap.server.ingest import ReportUpload, parse_report, without_nul
from shadowmap.server.schemas import EnrollRequest
from shadowmap.server.settings import Settings
from shadowmap.server.tables import Device, Role

logger = logging.getLogger(__name__)

# docs/collector-api.md: a report over 10 MiB is refused with 413.
REPORT_BODY_LIMIT = 10 * 1024 * 1024
# An enrolment is a few hundred bytes; this leaves room and refuses floods.
ENROLL_BODY_LIMIT = 64 * 1024
# Methods that change nothing (RFC 9110 9.2.1): a session cookie may authorise them on the API.
SAFE_METHODS = frozenset({"GET", "HEAD"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


AppSettings = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_session)]


def current_device(request: Request, session: DbSession) -> Device:
    token = auth.bearer_token(request.headers.get("authorization"))
    device = device_for_token(session, token) if token else None
    if device is None:
        raise NodeInvalid()
    # End the read now: no lock may be held while a slow client sends its body.
    session.commit()
    return device


def session_principal(request: Request, settings: Settings, session: Session) -> Principal | None:
    data = auth.read_session(settings, request.cookies.get(auth.SESSION_COOKIE))
    if data is None:
        return None
    if data.bootstrap:
        return Principal(auth.BOOTSTRAP_NAME, auth.bootstrap_role(), "admin_token")
    return accounts.account_principal(session, data.name)


def api_principal(request: Request, settings: AppSettings, session: DbSession) -> Principal:
    """The admin token, an API token, or (for a GET) the page session; else 401."""
    token = auth.bearer_token(request.headers.get("authorization"))
    if token and auth.admin_token_matches(settings, token):
        return Principal(auth.BOOTSTRAP_NAME, Role.ADMIN, "admin_token")
    found = accounts.token_principal(session, token) if token else None
    if found is None and not token and request.method in SAFE_METHODS:
        found = session_principal(request, settings, session)
    if found is None:
        raise AdminTokenInvalid()
    return found


ApiPrincipal = Annotated[Principal, Depends(api_principal)]


def require_reader(principal: ApiPrincipal) -> Principal:
    if not principal.can_read:
        raise Forbidden("this token may only upload repository reports")
    return principal


def require_admin(principal: ApiPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("only an admin may do this")
    return principal


def require_uploader(principal: ApiPrincipal) -> Principal:
    if principal.role not in (Role.ADMIN, Role.UPLOADER):
        raise Forbidden("upload with an uploader or admin API token")
    return principal


def page_principal(request: Request, settings: AppSettings, session: DbSession) -> Principal:
    found = session_principal(request, settings, session)
    if found is None or not found.can_read:
        raise LoginRequired()
    return found


def require_login(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    return principal


def require_page_admin(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("only an admin may open this page")
    return principal


def same_origin(request: Request) -> None:
    """Refuse a form that a browser says came from another site (the Origin header)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfInvalid()


def check_csrf(request: Request, settings: Settings, presented: object) -> None:
    """Refuse a form whose CSRF token is not its session's (CsrfInvalid)."""
    data = auth.read_session(settings, request.cookies.get(auth.SESSION_COOKIE))
    token = presented if isinstance(presented, str) else None
    if data is None or not auth.csrf_matches(data, token):
        raise CsrfInvalid()


async def checked_form(request: Request, settings: AppSettings) -> dict[str, str]:
    """A page form's fields, once its CSRF token and origin are checked."""
    same_origin(request)
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(request, settings, fields.get("csrf"))
    return fields


def csrf_token(request: Request, settings: AppSettings) -> str:
    data = auth.read_session(settings, request.cookies.get(auth.SESSION_COOKIE))
    return data.csrf if data else ""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 once the declared or the read size passes limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over the {limit}-byte limit")
    return bytes(body)


async def report_upload(request: Request) -> ReportUpload:
    raw = await read_body(request, REPORT_BODY_LIMIT)
    # Validating up to 10 MiB takes a while; keep it off the event loop.
    return await run_in_threadpool(parse_report, raw)


async def enroll_request(request: Request) -> EnrollRequest:
    raw = without_nul(await read_body(request, ENROLL_BODY_LIMIT))
    try:
        return EnrollRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems = describe_problems(exc.errors())
        raise RequestInvalid(f"not a valid enrolment: {problems}") from None


CurrentDevice = Annotated[Device, Depends(current_device)]
AdminOnly = Depends(require_admin)
ReaderOnly = Depends(require_reader)
LoginOnly = Depends(require_login)
Reader = Annotated[Principal, Depends(require_reader)]
Admin = Annotated[Principal, Depends(require_admin)]
Uploader = Annotated[Principal, Depends(require_uploader)]
PageUser = Annotated[Principal, Depends(require_login)]
PageAdmin = Annotated[Principal, Depends(require_page_admin)]
CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
SameOrigin = Depends(same_origin)
CsrfToken = Annotated[str, Depends(csrf_token)]
ReportBody = Annotated[ReportUpload, Depends(report_upload)]
EnrollBody = Annotated[EnrollRequest, Depends(enroll_request)]
