"""Domain errors of the relay, each with its gRPC status code and a stable reason.

The reason (a `tokenplace.v1.ErrorReason`) travels to callers in a google.rpc.ErrorInfo,
and a retry delay in a google.rpc.RetryInfo (`tokenplace.client.errors.rich_status`), so
a gateway maps it to HTTP without parsing messages. Other modules define the errors of
their own domain (accounts, limits, sealed requests...) on the same base.
"""

from __future__ import annotations

import grpc

from tokenplace.client.errors import Reason, reason_name
from tokenplace.v1 import errors_pb2


class RelayError(Exception):
    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: Reason = errors_pb2.ERROR_REASON_INTERNAL

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Seconds the caller should wait before retrying (RetryInfo), when that helps.
        self.retry_after = retry_after

    @property
    def reason_code(self) -> str:
        """The reason as request logs and ended sealed requests record it: "node_lost"."""
        return reason_name(self.reason).lower()


class InvalidArgument(RelayError):
    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = errors_pb2.ERROR_REASON_INVALID_REQUEST


class ModelNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_MODEL_NOT_FOUND


class NodeNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_NODE_NOT_FOUND


class NoNodeAvailable(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_NO_COMPUTE_NODE_AVAILABLE


class NodeLost(RelayError):
    """The node's stream ended before it answered. Safe to retry elsewhere."""

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_NODE_LOST


class NodeBusy(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_NODE_BUSY


class QueueFull(RelayError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = errors_pb2.ERROR_REASON_QUEUE_FULL


class JobTimedOut(RelayError):
    status_code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = errors_pb2.ERROR_REASON_TIMEOUT


class BadEnvelope(RelayError):
    """The node could not open the envelope, or its inner ids did not match."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = errors_pb2.ERROR_REASON_BAD_ENVELOPE


class NodeFailed(RelayError):
    status_code = grpc.StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_UPSTREAM_ERROR


class JobCancelled(RelayError):
    status_code = grpc.StatusCode.CANCELLED
    reason = errors_pb2.ERROR_REASON_CANCELLED
