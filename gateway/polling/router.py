"""Polling nodes: compute nodes over HTTP register (a lease), long-poll for sealed jobs,
deliver sealed answers, and unregister.

After registering, a node sends its credential (opened from the sealed `credential`)
as the X-Relay-Server-Token header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request

from tokenplace.client.types import ModelCard
from tokenplace.e2ee import Envelope
from tokenplace.gateway.disconnect import cancel_on_disconnect
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.mounting import API_V1, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.polling.protocol import (
    NodeKeyIn,
    NodeRegistered,
    NodeRegisterIn,
    NodeResultIn,
    NodeResultStored,
    PolledJobOut,
    PollIn,
    PollOut,
)
from tokenplace.gateway.protocol import NodeUnregistered, SealedData
from tokenplace.gateway.services import ServicesDep

router = APIRouter(prefix="/relay", tags=["compute nodes (HTTP)"])
Credential = Annotated[str | None, Header(alias="X-Relay-Server-Token", max_length=512)]
# The network's join token, when the relay requires one to register nodes.
JoinToken = Annotated[str | None, Header(alias="X-Tokenplace-Join-Token", max_length=512)]


def attach(app: FastAPI) -> None:
    mount(app, router, API_V1)


def require(credential: str | None) -> str:
    if not credential:
        raise APIError(
            401,
            "send the node credential from registration as X-Relay-Server-Token",
            "node_credential_invalid",
        )
    return credential


@router.post(
    "/servers/register",
    response_model=NodeRegistered,
    responses=error_responses(400, 401, 409, 503),
)
async def register_node(
    body: NodeRegisterIn,
    services: ServicesDep,
    credential: Credential = None,
    join_token: JoinToken = None,
) -> NodeRegistered:
    """Register (no token) or renew the lease (with X-Relay-Server-Token).

    A relay that requires a join token wants it as X-Tokenplace-Join-Token (401 if not).
    """
    registration = await services.relay.polling.register(
        public_key=body.server_public_key,
        models=[ModelCard(**card.model_dump()) for card in body.models],
        slots=body.slots,
        inventory=body.inventory.model_dump(),
        display_name=body.display_name,
        credential=credential or "",
        join_token=join_token or "",
    )
    sealed = registration.sealed_credential
    return NodeRegistered(
        node_id=registration.node_id,
        credential=SealedData(**sealed.to_json()) if sealed is not None else None,
        next_ping_in_x_seconds=registration.lease_seconds,
        poll_wait_seconds=registration.poll_wait_seconds,
    )


@router.post(
    "/servers/unregister", response_model=NodeUnregistered, responses=error_responses(400, 401, 503)
)
async def unregister_node(
    body: NodeKeyIn, services: ServicesDep, credential: Credential = None
) -> NodeUnregistered:
    removed = await services.relay.polling.unregister(body.server_public_key, require(credential))
    return NodeUnregistered(removed=removed)


@router.post("/servers/poll", response_model=PollOut, responses=error_responses(400, 401, 503))
async def poll_for_job(
    body: PollIn, request: Request, services: ServicesDep, credential: Credential = None
) -> PollOut:
    """Wait (up to wait_seconds) for the next sealed job; also renews the lease."""
    polling = services.relay.polling
    job, cancelled, lease = await cancel_on_disconnect(
        request, polling.poll(body.server_public_key, require(credential), body.wait_seconds)
    )
    polled = None
    if job is not None:
        polled = PolledJobOut(
            job_id=job.job_id,
            model=job.model,
            client_public_key=job.client_public_key,
            request_id=job.request_id,
            deadline=job.deadline_unix,
            **job.envelope.to_json(),
        )
    return PollOut(job=polled, cancelled_job_ids=cancelled, next_ping_in_x_seconds=lease)


@router.post(
    "/responses", response_model=NodeResultStored, responses=error_responses(400, 401, 404, 503)
)
async def store_node_response(
    body: NodeResultIn, services: ServicesDep, credential: Credential = None
) -> NodeResultStored:
    """Store the sealed answer to a job; only the node the job went to may."""
    response = None
    if body.failure is None:
        sealed = SealedData(
            ciphertext=body.ciphertext or "", cipherkey=body.cipherkey or "", iv=body.iv or ""
        )
        response = Envelope.from_json(sealed.model_dump())
    accepted = await services.relay.polling.submit_result(
        body.server_public_key,
        require(credential),
        body.job_id,
        (body.usage.prompt_tokens, body.usage.completion_tokens),
        response=response,
        failure=body.failure,
    )
    if not accepted:
        raise APIError(
            404, "no running job with that job_id is assigned to this node", "unknown_job", "job_id"
        )
    return NodeResultStored()
