"""Operator-gated routes: rotate the gateway's key pair, remove a compute node.

The relay holds the operator token; the gateway forwards what the caller presents
and lets the relay decide (constant-time compare there).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.e2ee.keys import write_private_key
from tokenplace.gateway.callers import operator_token
from tokenplace.gateway.mounting import OPENAI_COMPATIBLE, mount
from tokenplace.gateway.openapi import OPERATOR_SECURITY, error_responses
from tokenplace.gateway.operator.protocol import PublicKeyRotated, UnregisterNodeIn
from tokenplace.gateway.protocol import NodeUnregistered
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["operator"])
ERRORS = error_responses(400, 401, 503)


def attach(app: FastAPI) -> None:
    mount(app, router, OPENAI_COMPATIBLE)


@router.post(
    "/public-key/rotate",
    response_model=PublicKeyRotated,
    responses=ERRORS,
    dependencies=OPERATOR_SECURITY,
)
async def rotate_public_key(request: Request, services: ServicesDep) -> PublicKeyRotated:
    """Replace the gateway's RSA key pair (persisted 0600) and return the new public key."""
    await services.relay.operator.check(operator_token(request))
    key = generate_private_key()
    write_private_key(services.settings.key_path, key)
    services.identity.rotate(key)
    return PublicKeyRotated(public_key=public_key_b64(key))


@router.post(
    "/relay/unregister",
    response_model=NodeUnregistered,
    responses=ERRORS,
    dependencies=OPERATOR_SECURITY,
)
async def unregister_compute_node(
    body: UnregisterNodeIn, request: Request, services: ServicesDep
) -> NodeUnregistered:
    """Remove a compute node by server_public_key; it is told not to reconnect."""
    removed = await services.relay.operator.remove_node(
        operator_token(request), body.server_public_key
    )
    return NodeUnregistered(removed=removed)
