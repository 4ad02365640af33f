"""Relay-blind E2EE: pick a node, queue a sealed envelope, poll for the sealed answer, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from tokenplace.e2ee import Envelope
from tokenplace.gateway.caller import caller_of, sealed_estimate
from tokenplace.gateway.deps import relay_client, sealed_client
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.relay_client import RelayClient
from tokenplace.gateway.relay_schemas import (
    CancelIn,
    CancelOut,
    NextServer,
    Pending,
    RetrieveIn,
    SealedAccepted,
    SealedAnswer,
    SealedRequestIn,
)
from tokenplace.gateway.relay_services import SealedClient
from tokenplace.gateway.schemas import ErrorResponse

router = APIRouter(prefix="/relay", tags=["relay-blind E2EE"])
Relay = Annotated[RelayClient, Depends(relay_client)]
Sealed = Annotated[SealedClient, Depends(sealed_client)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


@router.get("/servers/next", response_model=NextServer, responses=errors(400, 404, 503))
async def next_server(
    relay: Relay, model: Annotated[str | None, Query(max_length=256)] = None
) -> NextServer:
    """The node a sealed request should be encrypted to (least loaded serving `model`)."""
    node = await relay.select_node(model or "")
    return NextServer(server_public_key=node.public_key, node_id=node.node_id)


@router.post(
    "/requests",
    status_code=202,
    response_model=SealedAccepted,
    responses=errors(400, 401, 402, 404, 429, 500, 503),
)
async def queue_sealed_request(
    body: SealedRequestIn, request: Request, sealed: Sealed
) -> SealedAccepted:
    """Queue a ciphertext envelope for the node holding server_public_key (idempotent)."""
    envelope = Envelope.from_json(body.model_dump(include={"ciphertext", "cipherkey", "iv"}))
    state = await sealed.submit(
        body.server_public_key,
        body.client_public_key,
        body.request_id,
        envelope,
        body.cancel_token,
        metadata=caller_of(request).metadata(sealed_estimate(envelope)),
    )
    return SealedAccepted(
        status=state.state, request_id=state.request_id, duplicate=state.duplicate
    )


@router.post(
    "/responses/retrieve",
    response_model=SealedAnswer,
    responses={202: {"model": Pending}, **errors(400, 404, 410, 503)},
)
async def retrieve_sealed_response(body: RetrieveIn, sealed: Sealed) -> Any:
    """The node's sealed answer (200), pending (202), or why there will be none (410)."""
    state = await sealed.retrieve(body.client_public_key, body.request_id or "")
    if state.state in ("queued", "running"):
        return JSONResponse(Pending(request_id=state.request_id).model_dump(), status_code=202)
    if state.response is None:
        raise APIError(
            410,
            f"the request was {state.state}: {state.reason}",
            state.reason or f"request_{state.state}",
        )
    return SealedAnswer(request_id=state.request_id, **state.response.to_json())


@router.post(
    "/requests/cancel", response_model=CancelOut, responses=errors(400, 403, 404, 409, 503)
)
async def cancel_sealed_request(body: CancelIn, sealed: Sealed) -> CancelOut:
    """Cancel with the token given at submission; the node stops generating."""
    state = await sealed.cancel(body.client_public_key, body.request_id, body.cancel_token)
    return CancelOut(request_id=state.request_id)
