"""The admin page: local accounts (viewer or admin) and API tokens, made and revoked.

A new token is shown once, on the page that made it; only its hash is kept.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shadowmap.server import accounts
from shadowmap.server.deps import CheckedForm, DbSession, PageAdmin
from shadowmap.server.errors import RequestInvalid
from shadowmap.server.render import page
from shadowmap.server.tables import Role

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


def _context(session: DbSession, new_token: str | None = None) -> dict[str, object]:
    return {
        "accounts": accounts.list_accounts(session),
        "tokens": accounts.list_tokens(session),
        "new_token": new_token,
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
