"""Plaintext-mode completions: the gateway as the E2EE client on the caller's behalf.

Select a node, seal the request to its key, dispatch through the relay, open the
sealed answer, and on a node lost before answering, retry on another.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from tokenplace.client.errors import RelayCallError
from tokenplace.client.inference import InferenceClient
from tokenplace.client.metadata import Caller, Metadata
from tokenplace.client.types import NodeAddress
from tokenplace.e2ee import DecryptionError, Envelope
from tokenplace.e2ee.payload import InnerRequest, InnerResponse, JobRequest
from tokenplace.gateway.config import GatewaySettings
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.identity import GatewayIdentity
from tokenplace.gateway.reservations import reservation_estimate, sealed_estimate
from tokenplace.v1 import errors_pb2

log = logging.getLogger(__name__)

# Lost before answering: the same request may run on another node.
RETRYABLE = frozenset({errors_pb2.ERROR_REASON_NODE_LOST, errors_pb2.ERROR_REASON_NODE_BUSY})


class CompletionService:
    def __init__(
        self, inference: InferenceClient, identity: GatewayIdentity, settings: GatewaySettings
    ) -> None:
        self.inference = inference
        self.identity = identity
        self.settings = settings
        # model -> the node the relay suggested for the next request (used once).
        self._hints: dict[str, NodeAddress] = {}

    async def complete(self, request: JobRequest, caller: Caller) -> dict[str, Any]:
        """Run `request` on some node; returns the node's OpenAI-shaped response."""
        request_id = f"req_{uuid.uuid4().hex}"
        metadata = caller.metadata(reservation_estimate(request))
        tried: list[str] = []
        for attempt in range(1, self.settings.max_attempts + 1):
            hinted = self._hints.pop(request.model, None) if not tried else None
            node = hinted or await self.inference.select_node(
                request.model, exclude=tried, metadata=metadata
            )
            try:
                return await self._attempt(node, request_id, request, metadata)
            except RelayCallError as error:
                stale_hint = (
                    hinted is not None and error.reason == errors_pb2.ERROR_REASON_NODE_NOT_FOUND
                )
                if error.reason not in RETRYABLE and not stale_hint:
                    raise
                log.warning(
                    "node failed before answering; retrying",
                    extra={"request_id": request_id, "node_id": node.node_id, "attempt": attempt},
                )
                tried.append(node.node_id)
        raise APIError(
            503,
            "every compute node tried was lost before answering; retry shortly",
            "no_compute_node_available",
        )

    async def forward_sealed(
        self,
        server_public_key: str,
        model: str,
        client_public_key: str,
        request_id: str,
        envelope: Envelope,
        caller: Caller,
    ) -> Envelope:
        """Relay-blind: pass a node-sealed envelope through untouched; return the node's."""
        dispatched = await self.inference.dispatch(
            server_public_key,
            model,
            client_public_key,
            request_id,
            envelope,
            timeout_seconds=self.settings.request_timeout_seconds,
            metadata=caller.metadata(sealed_estimate(envelope)),
        )
        return dispatched.response

    async def _attempt(
        self, node: NodeAddress, request_id: str, request: JobRequest, metadata: Metadata
    ) -> dict[str, Any]:
        identity = self.identity
        inner = InnerRequest(
            request_id=request_id, client_public_key=identity.public_key, request=request
        )
        sealed = identity.sealer.seal_model(inner, node.public_key)
        dispatched = await self.inference.dispatch(
            node,
            request.model,
            identity.public_key,
            request_id,
            sealed,
            timeout_seconds=self.settings.request_timeout_seconds,
            metadata=metadata,
        )
        try:
            reply = identity.opener.open_model(dispatched.response, InnerResponse)
        except (DecryptionError, ValueError):
            raise APIError(
                502,
                "the compute node returned an answer that could not be opened",
                "upstream_error",
            ) from None
        if dispatched.next_node is not None:
            self._hints[request.model] = dispatched.next_node
        if reply.request_id != request_id:
            raise APIError(502, "the compute node answered a different request", "upstream_error")
        if reply.error is not None:
            raise APIError(
                400, reply.error.message, reply.error.code or "invalid_request", reply.error.param
            )
        if reply.response is None:
            raise APIError(502, "the compute node returned no response", "upstream_error")
        return reply.response
