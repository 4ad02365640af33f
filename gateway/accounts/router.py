"""Token Router's management API for the caller's own account: whoami, me, keys.

Authenticated with the caller's API key (there is no sign-in service here).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from tokenplace.client.types import Account, ApiKey, WhoAmI
from tokenplace.gateway.accounts.protocol import KeyList, NewKey, NewKeyIn
from tokenplace.gateway.callers import caller_of
from tokenplace.gateway.mounting import API, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["account"])
ERRORS = error_responses(400, 401, 404, 500, 503)


def attach(app: FastAPI) -> None:
    mount(app, router, API)


@router.get("/whoami", response_model=WhoAmI, responses=ERRORS)
async def whoami(request: Request, services: ServicesDep) -> WhoAmI:
    """Confirms the bearer key resolves."""
    return await services.relay.accounts.whoami(caller_of(request).metadata())


@router.get("/me", response_model=Account, responses=ERRORS)
async def me(request: Request, services: ServicesDep) -> Account:
    """Your account and token balance."""
    return await services.relay.accounts.me(caller_of(request).metadata())


@router.get("/keys", response_model=KeyList, responses=ERRORS)
async def list_keys(request: Request, services: ServicesDep) -> KeyList:
    """Your API keys, by prefix; secrets are never shown again."""
    return KeyList(data=await services.relay.accounts.keys(caller_of(request).metadata()))


@router.post("/keys", status_code=201, response_model=NewKey, responses=ERRORS)
async def create_key(body: NewKeyIn, request: Request, services: ServicesDep) -> NewKey:
    """Mint a new key; the full secret is in this response only."""
    metadata = caller_of(request).metadata()
    key, secret = await services.relay.accounts.create_key(metadata, body.name)
    return NewKey(key=key, secret=secret)


@router.delete("/keys/{key_id}", response_model=ApiKey, responses=ERRORS)
async def revoke_key(key_id: str, request: Request, services: ServicesDep) -> ApiKey:
    """Revoke a key: it stops working at once."""
    return await services.relay.accounts.revoke_key(caller_of(request).metadata(), key_id)
