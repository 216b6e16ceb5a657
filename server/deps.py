"""FastAPI dependencies as short ``Annotated`` aliases: settings, a session, who is asking.

Body readers enforce size limits on the bytes actually read, not only on Content-Length.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shadowmap.server import auth
from shadowmap.server.enrollment import device_for_token
from shadowmap.server.errors import (
    AdminTokenInvalid,
    LoginRequired,
    NodeInvalid,
    PayloadTooLarge,
    RequestInvalid,
    describe_problems,
)
from shadowmap.server.ingest import ReportUpload, parse_report
from shadowmap.server.schemas import EnrollRequest
from shadowmap.server.settings import Settings
from shadowmap.server.tables import Device

logger = logging.getLogger(__name__)

# docs/collector-api.md: a report over 10 MiB is refused with 413.
REPORT_BODY_LIMIT = 10 * 1024 * 1024
# An enrolment is a few hundred bytes; this leaves room and refuses floods.
ENROLL_BODY_LIMIT = 64 * 1024


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


def require_admin(request: Request, settings: AppSettings) -> None:
    token = auth.bearer_token(request.headers.get("authorization"))
    if not auth.admin_token_matches(settings, token):
        raise AdminTokenInvalid()


def require_login(request: Request, settings: AppSettings) -> None:
    if not auth.session_valid(settings, request.cookies.get(auth.SESSION_COOKIE)):
        raise LoginRequired()


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
    raw = await read_body(request, ENROLL_BODY_LIMIT)
    try:
        return EnrollRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems = describe_problems(exc.errors())
        raise RequestInvalid(f"not a valid enrolment: {problems}") from None


CurrentDevice = Annotated[Device, Depends(current_device)]
AdminOnly = Depends(require_admin)
LoginOnly = Depends(require_login)
ReportBody = Annotated[ReportUpload, Depends(report_upload)]
EnrollBody = Annotated[EnrollRequest, Depends(enroll_request)]
