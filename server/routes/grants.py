"""``/api/v1/grants``: every IdP grant with its vendor match, scopes and state; and
``/api/v1/grants/import/{provider}``, where an admin posts the export files that
``collector import-grants --file`` reads."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shadowmap.server import page_data, uploads
from shadowmap.server.deps import Admin, AppSettings, DbSession, ReaderOnly
from shadowmap.server.errors import ImportInvalid
from shadowmap.server.grant_import import import_uploaded
from shadowmap.server.grant_store import ImportSummary
from shadowmap.server.idp.interface import IdpFileInvalid, Provider
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed
from shadowmap.server.schemas import ErrorBody
from shadowmap.server.settings import Settings

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
    form = await uploads.read_multipart(request, IMPORT_BODY_LIMIT, MAX_IMPORT_FILES)
    summary = await store_upload(session, provider, await uploads.file_parts(form), settings)
    logger.info("%s imported %s grants by upload", me.name, provider.value)
    return asdict(summary)


async def store_upload(
    session: Session, provider: Provider, files: list[bytes], settings: Settings
) -> ImportSummary:
    """One import of the posted files (the API's and the admin page's); ImportInvalid
    for a file the provider does not write, with nothing stored."""
    try:
        return await run_in_threadpool(
            import_uploaded, session, provider, files, settings.join_rules
        )
    except IdpFileInvalid as exc:
        session.rollback()
        raise ImportInvalid(f"{exc.message}; {exc.hint}" if exc.hint else exc.message) from None


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
