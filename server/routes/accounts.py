"""``/api/v1/accounts`` and ``/api/v1/tokens`` (admin): local accounts and API tokens.

A token is in the response that makes it and nowhere else, ever.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shadowmap.server import accounts
from shadowmap.server.deps import Admin, AdminOnly, DbSession
from shadowmap.server.errors import RequestInvalid
from shadowmap.server.routes.listing import READ_REFUSALS
from shadowmap.server.tables import Role

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1", tags=["accounts"], dependencies=[AdminOnly], responses=READ_REFUSALS
)


class AccountIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    role: Role = Role.VIEWER


class AccountOut(BaseModel):
    id: str
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role = Role.VIEWER


class TokenOut(BaseModel):
    id: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="shown once; only its SHA-256 is kept")


@router.get("/accounts")
def list_accounts(session: DbSession) -> list[AccountOut]:
    return [
        AccountOut.model_validate(a, from_attributes=True) for a in accounts.list_accounts(session)
    ]


@router.post("/accounts", status_code=201)
def add_account(session: DbSession, body: AccountIn) -> AccountOut:
    if body.role is Role.UPLOADER:
        raise RequestInvalid("an account is a viewer or an admin; uploaders are API tokens")
    account = accounts.create_account(session, body.username, body.password, body.role)
    return AccountOut.model_validate(account, from_attributes=True)


@router.get("/tokens")
def list_tokens(session: DbSession) -> list[TokenOut]:
    return [TokenOut.model_validate(t, from_attributes=True) for t in accounts.list_tokens(session)]


@router.post("/tokens", status_code=201)
def add_token(session: DbSession, me: Admin, body: TokenIn) -> NewToken:
    token, row = accounts.create_token(session, body.name, body.role, me.name)
    return NewToken(token=token, **TokenOut.model_validate(row, from_attributes=True).model_dump())


@router.delete("/tokens/{token_id}")
def revoke_token(session: DbSession, token_id: str) -> TokenOut:
    return TokenOut.model_validate(accounts.revoke_token(session, token_id), from_attributes=True)
