"""``/api/v1/people``: people from the IdPs and enrolments, and one person's graph."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from shadowmap.server import inventory, page_data
from shadowmap.server.deps import DbSession, ReaderOnly
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1", tags=["people"], dependencies=[ReaderOnly], responses=READ_REFUSALS
)


@router.get("/people", responses=csv_response())
def list_people(session: DbSession, q: str = "", format: ListFormat = ListFormat.JSON) -> Any:
    return listed(page_data.filtered(page_data.rows_of(session, "people"), q), format, "people")


@router.get("/people/{person_id}", responses={404: READ_REFUSALS[401]})
def get_person(session: DbSession, person_id: int) -> dict[str, Any]:
    return page_data.person_detail(session, inventory.build(session), person_id)
