"""Relay-blind sealed requests: pick a node, queue a sealed envelope, poll for the
sealed answer, cancel. Neither this gateway nor the relay can read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from tokenplace.e2ee import Envelope
from tokenplace.gateway.callers import caller_of
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.mounting import API_V1, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.reservations import sealed_estimate
from tokenplace.gateway.sealed import fail_closed
from tokenplace.gateway.sealed.protocol import (
    CancelIn,
    CancelOut,
    NextServer,
    Pending,
    RetrieveIn,
    SealedAccepted,
    SealedAnswer,
    SealedRequestIn,
)
from tokenplace.gateway.services import ServicesDep

router = APIRouter(prefix="/relay", tags=["relay-blind E2EE"])


def attach(app: FastAPI) -> None:
    mount(app, router, API_V1)
    app.include_router(fail_closed.router)


@router.get("/servers/next", response_model=NextServer, responses=error_responses(400, 404, 503))
async def next_server(
    services: ServicesDep, model: Annotated[str | None, Query(max_length=256)] = None
) -> NextServer:
    """The node a sealed request should be encrypted to (least loaded serving `model`)."""
    node = await services.relay.inference.select_node(model or "")
    return NextServer(server_public_key=node.public_key, node_id=node.node_id)


@router.post(
    "/requests",
    status_code=202,
    response_model=SealedAccepted,
    responses=error_responses(400, 401, 402, 404, 429, 500, 503),
)
async def queue_sealed_request(
    body: SealedRequestIn, request: Request, services: ServicesDep
) -> SealedAccepted:
    """Queue a ciphertext envelope for the node holding server_public_key (idempotent)."""
    envelope = Envelope.from_json(body.model_dump(include={"ciphertext", "cipherkey", "iv"}))
    state = await services.relay.sealed.submit(
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
    responses={202: {"model": Pending}, **error_responses(400, 404, 410, 503)},
)
async def retrieve_sealed_response(body: RetrieveIn, services: ServicesDep) -> Any:
    """The node's sealed answer (200), pending (202), or why there will be none (410)."""
    state = await services.relay.sealed.retrieve(body.client_public_key, body.request_id or "")
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
    "/requests/cancel", response_model=CancelOut, responses=error_responses(400, 403, 404, 409, 503)
)
async def cancel_sealed_request(body: CancelIn, services: ServicesDep) -> CancelOut:
    """Cancel with the token given at submission; the node stops generating."""
    state = await services.relay.sealed.cancel(
        body.client_public_key, body.request_id, body.cancel_token
    )
    return CancelOut(request_id=state.request_id)
