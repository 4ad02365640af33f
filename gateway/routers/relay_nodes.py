"""Compute nodes over HTTP: register (lease), unregister, long-poll, deliver sealed answers.

After registering, a node sends its credential (opened from the sealed
`credential`) as the X-Relay-Server-Token header.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from tokenplace.e2ee import Envelope
from tokenplace.gateway.deps import polling_client
from tokenplace.gateway.disconnect import cancel_on_disconnect
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.relay_schemas import (
    NodeKeyIn,
    NodeRegistered,
    NodeRegisterIn,
    NodeResultIn,
    NodeResultStored,
    NodeUnregistered,
    PolledJobOut,
    PollIn,
    PollOut,
)
from tokenplace.gateway.relay_services import PollingClient
from tokenplace.gateway.schemas import ErrorResponse, SealedData
from tokenplace.v1 import common_pb2, node_pb2, polling_pb2

router = APIRouter(prefix="/relay", tags=["compute nodes (HTTP)"])
Polling = Annotated[PollingClient, Depends(polling_client)]
Credential = Annotated[str | None, Header(alias="X-Relay-Server-Token", max_length=512)]
# The network's join token, when the relay requires one to register nodes.
JoinToken = Annotated[str | None, Header(alias="X-Tokenplace-Join-Token", max_length=512)]
_FAILURES = {
    "bad_envelope": node_pb2.FAILURE_REASON_BAD_ENVELOPE,
    "unknown_model": node_pb2.FAILURE_REASON_UNKNOWN_MODEL,
    "engine_error": node_pb2.FAILURE_REASON_ENGINE_ERROR,
    "cancelled": node_pb2.FAILURE_REASON_CANCELLED,
    "busy": node_pb2.FAILURE_REASON_BUSY,
}


def require(credential: str | None) -> str:
    if not credential:
        raise APIError(
            401,
            "send the node credential from registration as X-Relay-Server-Token",
            "node_credential_invalid",
        )
    return credential


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


@router.post(
    "/servers/register", response_model=NodeRegistered, responses=errors(400, 401, 409, 503)
)
async def register_node(
    body: NodeRegisterIn,
    polling: Polling,
    credential: Credential = None,
    join_token: JoinToken = None,
) -> NodeRegistered:
    """Register (no token) or renew the lease (with X-Relay-Server-Token).

    A relay that requires a join token wants it as X-Tokenplace-Join-Token (401 if not).
    """
    reply = await polling.register(
        polling_pb2.RegisterPollingNodeRequest(
            public_key=body.server_public_key,
            models=[common_pb2.ModelCard(**card.model_dump()) for card in body.models],
            slots=body.slots,
            inventory=common_pb2.NodeInventory(**body.inventory.model_dump()),
            display_name=body.display_name,
            credential=credential or "",
            join_token=join_token or "",
        )
    )
    sealed = None
    if reply.HasField("sealed_credential"):
        env = reply.sealed_credential
        sealed = SealedData(**Envelope(env.ciphertext, env.cipherkey, env.iv).to_json())
    return NodeRegistered(
        node_id=reply.node_id,
        credential=sealed,
        next_ping_in_x_seconds=reply.lease_seconds,
        poll_wait_seconds=reply.poll_wait_seconds,
    )


@router.post(
    "/servers/unregister", response_model=NodeUnregistered, responses=errors(400, 401, 503)
)
async def unregister_node(
    body: NodeKeyIn, polling: Polling, credential: Credential = None
) -> NodeUnregistered:
    removed = await polling.unregister(body.server_public_key, require(credential))
    return NodeUnregistered(removed=removed)


@router.post("/servers/poll", response_model=PollOut, responses=errors(400, 401, 503))
async def poll_for_job(
    body: PollIn, request: Request, polling: Polling, credential: Credential = None
) -> PollOut:
    """Wait (up to wait_seconds) for the next sealed job; also renews the lease."""
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


@router.post("/responses", response_model=NodeResultStored, responses=errors(400, 401, 404, 503))
async def store_node_response(
    body: NodeResultIn, polling: Polling, credential: Credential = None
) -> NodeResultStored:
    """Store the sealed answer to a job; only the node the job went to may."""
    result = node_pb2.JobResult(
        job_id=body.job_id,
        usage=common_pb2.Usage(**body.usage.model_dump()),
    )
    if body.failure is not None:
        result.failure.reason = _FAILURES[body.failure]
    else:
        sealed = SealedData(
            ciphertext=body.ciphertext or "", cipherkey=body.cipherkey or "", iv=body.iv or ""
        )
        env = Envelope.from_json(sealed.model_dump())
        result.response.CopyFrom(
            common_pb2.Envelope(ciphertext=env.ciphertext, cipherkey=env.cipherkey, iv=env.iv)
        )
    if not await polling.submit_result(body.server_public_key, require(credential), result):
        raise APIError(
            404, "no running job with that job_id is assigned to this node", "unknown_job", "job_id"
        )
    return NodeResultStored()
