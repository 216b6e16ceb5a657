"""``/api/v1/repo-reports`` (an uploader or admin API token posts scan-repo's JSON) and
``/api/v1/repositories`` (the repositories and their keys)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from shadowmap.server import page_data, repo_ingest
from shadowmap.server.deps import DbSession, ReaderOnly, ReportBody, Uploader
from shadowmap.server.repo_ingest import RepoAccepted
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed
from shadowmap.server.schemas import ErrorBody

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["repositories"], responses=READ_REFUSALS)


@router.post(
    "/repo-reports",
    status_code=201,
    responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def post_repo_report(me: Uploader, upload: ReportBody, session: DbSession) -> RepoAccepted:
    return repo_ingest.ingest_repo_report(session, upload)


@router.get("/repositories", dependencies=[ReaderOnly], responses=csv_response())
def list_repositories(session: DbSession, q: str = "", format: ListFormat = ListFormat.JSON) -> Any:
    return listed(
        page_data.filtered(page_data.rows_of(session, "repositories"), q), format, "repositories"
    )
