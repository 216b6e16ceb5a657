"""``/api/v1/vendors``: the AI vendors with trust and sanction; one vendor's graph; an
admin's decision about it (PUT); ``/api/v1/trust-policy``: how trust is weighed."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shadowmap.server import inventory, page_data, trust_policy, vendor_settings
from shadowmap.server.deps import Admin, DbSession, ReaderOnly
from shadowmap.server.routes.listing import READ_REFUSALS, ListFormat, csv_response, listed

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["vendors"], responses=READ_REFUSALS)


class VendorDecision(BaseModel):
    sanctioned: bool | None = Field(None, description="None: as the IdP's SSO apps say")
    allowed_scopes: list[str] = Field(default_factory=list, max_length=100)
    note: str | None = Field(None, max_length=2000)
    trust_override: int | None = Field(None, ge=0, le=100)
    override_reason: str | None = Field(None, max_length=2000)


@router.get("/vendors", dependencies=[ReaderOnly], responses=csv_response())
def list_vendors(session: DbSession, q: str = "", format: ListFormat = ListFormat.JSON) -> Any:
    return listed(page_data.filtered(page_data.rows_of(session, "vendors"), q), format, "vendors")


@router.get("/vendors/{key}", dependencies=[ReaderOnly], responses={404: READ_REFUSALS[401]})
def get_vendor(session: DbSession, key: str) -> dict[str, Any]:
    return page_data.vendor_detail(inventory.build(session), key)


@router.put("/vendors/{key}", responses={404: READ_REFUSALS[401], 422: READ_REFUSALS[401]})
def put_vendor(session: DbSession, me: Admin, key: str, body: VendorDecision) -> dict[str, Any]:
    wanted = vendor_settings.DecisionInput(
        sanctioned=body.sanctioned,
        allowed_scopes=tuple(body.allowed_scopes),
        note=body.note,
        trust_override=body.trust_override,
        override_reason=body.override_reason,
    )
    row = vendor_settings.decide(session, key, me.name, wanted)
    return {"vendor": row.vendor_id, "sanctioned": row.sanctioned, "updated_by": row.updated_by}


class TrustPolicyBody(BaseModel):
    weights: dict[str, int] = Field(default_factory=dict, description="factor id: 0 to 100")
    accepted_jurisdictions: list[str] | None = Field(
        None, max_length=300, description="ISO 3166-1 alpha-2; None: the default list"
    )
    penalise_unknown: bool = False


@router.get("/trust-policy", dependencies=[ReaderOnly])
def get_trust_policy(session: DbSession) -> dict[str, object]:
    return trust_policy.document(trust_policy.load(session))


@router.put("/trust-policy", responses={422: READ_REFUSALS[401]})
def put_trust_policy(session: DbSession, me: Admin, body: TrustPolicyBody) -> dict[str, object]:
    wanted = trust_policy.PolicyInput(
        body.weights, body.accepted_jurisdictions, body.penalise_unknown
    )
    return trust_policy.document(trust_policy.save(session, wanted, me.name))


@router.delete("/trust-policy")
def reset_trust_policy(session: DbSession, me: Admin) -> dict[str, object]:
    return trust_policy.document(trust_policy.reset(session, me.name))
