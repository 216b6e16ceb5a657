"""``GET /healthz``: up, and able to reach the database (for load balancers; no auth)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shadowmap.server.deps import DbSession
from shadowmap.server.errors import DatabaseUnavailable
from shadowmap.server.schemas import Health

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: DbSession) -> Health:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        logger.warning("health check: the database is unreachable")
        raise DatabaseUnavailable() from None
    return Health()
