"""The admin page: local accounts (viewer or admin) and API tokens, made and revoked;
grant imports by upload; the organisation's trust policy.

A new token is shown once, on the page that made it; only its hash is kept.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shadowmap.server import accounts, trust_policy, uploads
from shadowmap.server.deps import (
    AppSettings,
    CheckedForm,
    DbSession,
    PageAdmin,
    check_csrf,
    same_origin,
)
from shadowmap.server.errors import RequestInvalid
from shadowmap.server.grant_store import ImportSummary
from shadowmap.server.idp.interface import Provider
from shadowmap.server.render import page
from shadowmap.server.routes.grants import IMPORT_BODY_LIMIT, MAX_IMPORT_FILES, store_upload
from shadowmap.server.tables import Role
from shadowmap.server.trust import NAMES, WEIGHTS

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)


def _role(value: str, allowed: tuple[Role, ...]) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in allowed:
        raise RequestInvalid(f"the role is one of {', '.join(r.value for r in allowed)}")
    return role


def _context(
    session: DbSession, new_token: str | None = None, imported: ImportSummary | None = None
) -> dict[str, object]:
    return {
        "accounts": accounts.list_accounts(session),
        "tokens": accounts.list_tokens(session),
        "new_token": new_token,
        "imported": imported,
        "providers": [p.value for p in Provider],
        "policy": trust_policy.document(trust_policy.load(session)),
        "factor_names": NAMES,
    }


@router.get("/admin")
def admin(request: Request, session: DbSession, me: PageAdmin) -> Response:
    return page(request, "admin.html", _context(session), me)


@router.post("/admin/accounts")
def add_account(session: DbSession, me: PageAdmin, form: CheckedForm) -> Response:
    role = _role(form.get("role", ""), (Role.VIEWER, Role.ADMIN))
    accounts.create_account(session, form.get("username", ""), form.get("password", ""), role)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/accounts/{account_id}")
def change_account(
    account_id: str, session: DbSession, me: PageAdmin, form: CheckedForm
) -> Response:
    disabled = {"disable": True, "enable": False}.get(form.get("action", ""))
    role = _role(form["role"], (Role.VIEWER, Role.ADMIN)) if form.get("role") else None
    accounts.set_account(session, account_id, role=role, disabled=disabled)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/tokens")
def add_token(request: Request, session: DbSession, me: PageAdmin, form: CheckedForm) -> Response:
    role = _role(form.get("role", ""), tuple(Role))
    token, _row = accounts.create_token(session, form.get("name", ""), role, me.name)
    return page(request, "admin.html", _context(session, token), me, 201)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: str, session: DbSession, me: PageAdmin, form: CheckedForm) -> Response:
    accounts.revoke_token(session, token_id)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/grants/import")
async def import_grants(
    request: Request, session: DbSession, me: PageAdmin, settings: AppSettings
) -> Response:
    """The import form: the same files and checks as POST /api/v1/grants/import."""
    same_origin(request)
    form = await uploads.read_multipart(request, IMPORT_BODY_LIMIT, MAX_IMPORT_FILES)
    check_csrf(request, settings, form.get("csrf"))
    try:
        provider = Provider(str(form.get("provider", "")))
    except ValueError:
        raise RequestInvalid("pick the provider that wrote the files") from None
    summary = await store_upload(session, provider, await uploads.file_parts(form), settings)
    logger.info("%s imported %s grants on the admin page", me.name, provider.value)
    return page(request, "admin.html", _context(session, imported=summary), me)


@router.post("/admin/trust-policy")
def set_trust_policy(session: DbSession, me: PageAdmin, form: CheckedForm) -> Response:
    if form.get("action") == "reset":
        trust_policy.reset(session, me.name)
        return RedirectResponse("/admin#trust", status_code=303)
    weights = {}
    for factor in WEIGHTS:
        text = form.get(f"weight_{factor}", "").strip()
        # ASCII and short: int() refuses "²" (a digit to isdigit) and 4,301 digits or more.
        if not (text.isascii() and text.isdigit()) or len(text) > 3:
            raise RequestInvalid(f"the weight of {factor} is a whole number from 0 to 100")
        weights[factor] = int(text)
    codes = form.get("accepted_jurisdictions", "").replace(",", " ").split()
    wanted = trust_policy.PolicyInput(weights, codes, form.get("penalise_unknown") == "on")
    trust_policy.save(session, wanted, me.name)
    return RedirectResponse("/admin#trust", status_code=303)
