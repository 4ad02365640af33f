"""Token Router's management API for the caller's own account: whoami, me, keys.

Authenticated with the caller's API key (there is no sign-in service here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from tokenplace.gateway.account_client import AccountClient, KeyView
from tokenplace.gateway.caller import caller_of
from tokenplace.gateway.schemas import ErrorResponse

router = APIRouter(tags=["account"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 404, 500, 503)
}


async def account_client(request: Request) -> AccountClient:
    return request.app.state.accounts


Accounts = Annotated[AccountClient, Depends(account_client)]


class WhoAmI(BaseModel):
    account_id: str
    key_id: str
    key_prefix: str


class Me(BaseModel):
    id: str
    name: str
    balance_tokens: int
    created_at: datetime | None


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    prefix: str
    name: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyList(BaseModel):
    object: str = "list"
    data: list[KeyOut]


class NewKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class NewKey(BaseModel):
    key: KeyOut
    secret: str = Field(description="The full API key. Shown only this once: store it now.")


def _key(key: KeyView) -> KeyOut:
    return KeyOut.model_validate(key)


@router.get("/whoami", response_model=WhoAmI, responses=ERRORS)
async def whoami(request: Request, accounts: Accounts) -> WhoAmI:
    """Confirms the bearer key resolves."""
    reply = await accounts.whoami(caller_of(request).metadata())
    return WhoAmI(account_id=reply.account_id, key_id=reply.key_id, key_prefix=reply.key_prefix)


@router.get("/me", response_model=Me, responses=ERRORS)
async def me(request: Request, accounts: Accounts) -> Me:
    """Your account and token balance."""
    account = await accounts.me(caller_of(request).metadata())
    return Me(
        id=account.id,
        name=account.name,
        balance_tokens=account.balance_tokens,
        created_at=account.created_at,
    )


@router.get("/keys", response_model=KeyList, responses=ERRORS)
async def list_keys(request: Request, accounts: Accounts) -> KeyList:
    """Your API keys, by prefix; secrets are never shown again."""
    return KeyList(data=[_key(k) for k in await accounts.keys(caller_of(request).metadata())])


@router.post("/keys", status_code=201, response_model=NewKey, responses=ERRORS)
async def create_key(body: NewKeyIn, request: Request, accounts: Accounts) -> NewKey:
    """Mint a new key; the full secret is in this response only."""
    key, secret = await accounts.create_key(caller_of(request).metadata(), body.name)
    return NewKey(key=_key(key), secret=secret)


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=ERRORS)
async def revoke_key(key_id: str, request: Request, accounts: Accounts) -> KeyOut:
    """Revoke a key: it stops working at once."""
    return _key(await accounts.revoke_key(caller_of(request).metadata(), key_id))
