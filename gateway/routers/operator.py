"""Operator-gated routes: rotate the gateway's key pair, remove a compute node.

The relay holds the operator token; the gateway forwards what the caller
presents and lets the relay decide (constant-time compare there).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.e2ee.keys import write_private_key
from tokenplace.gateway.completions import CompletionService
from tokenplace.gateway.deps import completion_service, operator_client
from tokenplace.gateway.openapi import OPERATOR_SECURITY
from tokenplace.gateway.operator import operator_token
from tokenplace.gateway.relay_schemas import NodeUnregistered, PublicKeyRotated, UnregisterNodeIn
from tokenplace.gateway.relay_services import OperatorClient
from tokenplace.gateway.schemas import ErrorResponse

router = APIRouter(tags=["operator"])
Operator = Annotated[OperatorClient, Depends(operator_client)]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 503)
}


@router.post(
    "/public-key/rotate",
    response_model=PublicKeyRotated,
    responses=ERRORS,
    dependencies=OPERATOR_SECURITY,
)
async def rotate_public_key(
    request: Request,
    operator: Operator,
    service: Annotated[CompletionService, Depends(completion_service)],
) -> PublicKeyRotated:
    """Replace the gateway's RSA key pair (persisted 0600) and return the new public key."""
    await operator.check(operator_token(request))
    key = generate_private_key()
    write_private_key(request.app.state.settings.key_path, key)
    service.rotate_key(key)
    return PublicKeyRotated(public_key=public_key_b64(key))


@router.post(
    "/relay/unregister",
    response_model=NodeUnregistered,
    responses=ERRORS,
    dependencies=OPERATOR_SECURITY,
)
async def unregister_compute_node(
    body: UnregisterNodeIn, request: Request, operator: Operator
) -> NodeUnregistered:
    """Remove a compute node by server_public_key; it is told not to reconnect."""
    removed = await operator.remove_node(operator_token(request), body.server_public_key)
    return NodeUnregistered(removed=removed)
