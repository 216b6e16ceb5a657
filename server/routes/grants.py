"""``/api/v1/grants``: every IdP grant with its vendor match, scopes and state; and
``/api/v1/grants/import/{provider}``, where an admin posts the export files that
``collector import-grants --file`` reads."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from shadowmap.server import page_data
from shadowmap.server.deps import Admin, AppSettings, DbSession, ReaderOnly, read_body
from shadowmap.server.errors import ImportInvalid
from shadowmap.server.grant_import import import_uploaded
from shadowmap.server.idp.interface import IdpFileInvalid, Provider
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed
from shadowmap.server.schemas import ErrorBody

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["grants"], responses=READ_REFUSALS)

# docs/collector-api.md: the export files of one import, together (a 10k-user tenant's
# tokens and events fit in far less).
IMPORT_BODY_LIMIT = 64 * 1024 * 1024
# Entra's three collections plus audit logs are the most one import needs.
MAX_IMPORT_FILES = 16


@router.post(
    "/grants/import/{provider}",
    responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def import_grants(
    provider: Provider, request: Request, me: Admin, settings: AppSettings, session: DbSession
) -> dict[str, Any]:
    """Store the posted export files (multipart, each part named ``file``) in one go."""
    files = await _posted_files(request)
    try:
        summary = await run_in_threadpool(
            import_uploaded, session, provider, files, settings.join_rules
        )
    except IdpFileInvalid as exc:
        session.rollback()
        raise ImportInvalid(f"{exc.message}; {exc.hint}" if exc.hint else exc.message) from None
    logger.info("%s imported %s grants by upload", me.name, provider.value)
    return asdict(summary)


async def _posted_files(request: Request) -> list[bytes]:
    """The ``file`` parts, once the whole body is read within the limit."""
    raw = await read_body(request, IMPORT_BODY_LIMIT)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ImportInvalid("post the export files as multipart/form-data parts named `file`")
    try:
        form = await Request(request.scope, replay).form(max_files=MAX_IMPORT_FILES)
    except HTTPException as exc:  # Starlette's answer to a MultiPartException
        raise ImportInvalid(f"the multipart body could not be read: {exc.detail}") from None
    except MultiPartException as exc:
        raise ImportInvalid(f"the multipart body could not be read: {exc.message}") from None
    parts = [part for part in form.getlist("file") if isinstance(part, UploadFile)]
    return [await part.read() for part in parts]


@router.get("/grants", dependencies=[ReaderOnly], responses=csv_response())
def list_grants(
    session: DbSession,
    q: str = "",
    provider: str = "",
    status: str = "",
    vendor: str = "",
    format: ListFormat = ListFormat.JSON,
) -> Any:
    rows = page_data.filtered(
        page_data.rows_of(session, "grants"), q, provider=provider, status=status, vendor=vendor
    )
    return listed(rows, format, "grants")
