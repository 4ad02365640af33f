"""Async chat completions (Token Router's `Prefer: respond-async` + GET /api/jobs/{id}).

A job is a relay-blind sealed request whose client is this gateway: the relay keeps
it (queued, running, answered) as ciphertext, and only this gateway's key opens the
answer. The job id is the unguessable request id.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tokenplace.client.inference import InferenceClient
from tokenplace.client.metadata import Caller
from tokenplace.client.sealed import SealedClient
from tokenplace.e2ee import DecryptionError, Envelope
from tokenplace.e2ee.payload import InnerRequest, InnerResponse, JobRequest
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.identity import GatewayIdentity
from tokenplace.gateway.reservations import reservation_estimate

STATUSES = {"queued": "queued", "running": "running", "completed": "completed"}


class AsyncJobs:
    def __init__(
        self, inference: InferenceClient, sealed: SealedClient, identity: GatewayIdentity
    ) -> None:
        self.inference = inference
        self.sealed = sealed
        self.identity = identity

    async def submit(self, request: JobRequest, caller: Caller) -> dict[str, Any]:
        job_id = f"job_{uuid.uuid4().hex}"
        identity = self.identity
        metadata = caller.metadata(reservation_estimate(request))
        node = await self.inference.select_node(request.model, metadata=metadata)
        inner = InnerRequest(
            request_id=job_id, client_public_key=identity.public_key, request=request
        )
        envelope = identity.sealer.seal_model(inner, node.public_key)
        state = await self.sealed.submit(
            node.public_key,
            identity.public_key,
            job_id,
            envelope,
            secrets.token_urlsafe(24),
            metadata=metadata,
        )
        return {"id": job_id, "object": "job", "status": _status(state.state)}

    async def get(self, job_id: str) -> dict[str, Any]:
        state = await self.sealed.retrieve(self.identity.public_key, job_id)
        body: dict[str, Any] = {"id": job_id, "object": "job", "status": _status(state.state)}
        if state.response is not None:
            body.update(self._open(job_id, state.response))
        elif body["status"] == "failed":
            body["error"] = {
                "message": f"the job ended: {state.reason}",
                "type": "api_error",
                "param": None,
                "code": state.reason or "job_failed",
            }
        return body

    def _open(self, job_id: str, envelope: Envelope) -> dict[str, Any]:
        try:
            reply = self.identity.opener.open_model(envelope, InnerResponse)
        except (DecryptionError, ValueError):
            raise APIError(
                502, "the job's answer could not be opened by this gateway", "upstream_error"
            ) from None
        if reply.request_id != job_id:
            raise APIError(502, "the node answered a different request", "upstream_error")
        if reply.error is not None:
            return {"status": "failed", "error": reply.error.model_dump()}
        return {"result": reply.response}


def _status(state: str) -> str:
    return STATUSES.get(state, "failed")
