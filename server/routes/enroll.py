"""``POST /api/v1/enroll``: an enrol secret in, a device token and the org key out."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from shadowmap.server import enrollment
from shadowmap.server.deps import AppSettings, DbSession, EnrollBody
from shadowmap.server.schemas import EnrollResponse, ErrorBody

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["enrolment"])


@router.post("/enroll", responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def enroll(body: EnrollBody, session: DbSession, settings: AppSettings) -> EnrollResponse:
    return enrollment.enroll(session, body, settings.enroll_secret, settings.join_rules)
