"""Domain errors of the relay, each with its gRPC status code and a stable reason.

The reason travels to callers as a google.rpc.ErrorInfo detail so a gateway
can map it to the OpenAI error `code` without parsing messages.
"""

from __future__ import annotations

import grpc

ERROR_DOMAIN = "token.place"


class RelayError(Exception):
    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: str = "api_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Extra machine-readable facts for the caller (e.g. retry_after), never content.
        self.metadata: dict[str, str] = {}


class InvalidArgument(RelayError):
    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "invalid_request"


class ModelNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = "model_not_found"


class NodeNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = "node_not_found"


class NoNodeAvailable(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "no_compute_node_available"


class NodeLost(RelayError):
    """The node's stream ended before it answered. Safe to retry elsewhere."""

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "node_lost"


class NodeBusy(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "node_busy"


class QueueFull(RelayError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "queue_full"


class JobTimedOut(RelayError):
    status_code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "timeout"


class BadEnvelope(RelayError):
    """The node could not open the envelope, or its inner ids did not match."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "bad_envelope"


class NodeFailed(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "upstream_error"


class JobCancelled(RelayError):
    status_code = grpc.StatusCode.CANCELLED
    reason = "cancelled"
