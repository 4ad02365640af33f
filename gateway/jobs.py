"""Async chat completions (Token Router's `Prefer: respond-async` + GET /api/jobs/{id}).

A job is a relay-blind sealed request whose client is this gateway: the relay
keeps it (queued, running, answered) as ciphertext, and only this gateway's key
opens the answer. The job id is the unguessable request id.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tokenplace.e2ee import DecryptionError
from tokenplace.e2ee.payload import InnerRequest, InnerResponse, JobRequest
from tokenplace.gateway.caller import Caller, reservation_estimate
from tokenplace.gateway.completions import CompletionService
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.relay_services import SealedClient


class AsyncJobs:
    def __init__(self, completions: CompletionService, sealed: SealedClient) -> None:
        self.completions = completions
        self.sealed = sealed

    async def submit(self, request: JobRequest, caller: Caller) -> dict[str, Any]:
        job_id = f"job_{uuid.uuid4().hex}"
        service = self.completions
        metadata = caller.metadata(reservation_estimate(request))
        node = await service.relay.select_node(request.model, metadata=metadata)
        inner = InnerRequest(
            request_id=job_id, client_public_key=service.public_key, request=request
        )
        envelope = service.sealer.seal_model(inner, node.public_key)
        state = await self.sealed.submit(
            node.public_key,
            service.public_key,
            job_id,
            envelope,
            secrets.token_urlsafe(24),
            metadata=metadata,
        )
        return {"id": job_id, "object": "job", "status": _status(state.state)}

    async def get(self, job_id: str) -> dict[str, Any]:
        state = await self.sealed.retrieve(self.completions.public_key, job_id)
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

    def _open(self, job_id: str, envelope: Any) -> dict[str, Any]:
        try:
            reply = self.completions.opener.open_model(envelope, InnerResponse)
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
    return {"queued": "queued", "running": "running", "completed": "completed"}.get(state, "failed")
