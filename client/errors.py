"""Relay errors on the wire, written once for both ends.

The relay fails a call with a gRPC status whose details carry a google.rpc.ErrorInfo
(domain "token.place"; reason: the `tokenplace.v1.ErrorReason` value's name without
its prefix, e.g. "NODE_LOST") and, when the caller should wait before retrying, a
google.rpc.RetryInfo. `rich_status` builds that status (the relay); `from_rpc_error`
and `from_status` read it back (the clients) as a `RelayCallError`.
"""

from __future__ import annotations

from typing import TypeAlias

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from tokenplace.common.timestamps import to_duration, to_seconds
from tokenplace.v1 import errors_pb2

ERROR_DOMAIN = "token.place"
REASON_PREFIX = "ERROR_REASON_"
UNSPECIFIED = errors_pb2.ERROR_REASON_UNSPECIFIED
STATUS_DETAILS_KEY = "grpc-status-details-bin"
_CODES = {code.value[0]: code for code in grpc.StatusCode}

Reason: TypeAlias = errors_pb2.ErrorReason.ValueType


def reason_name(reason: Reason) -> str:
    """ "NODE_LOST" for ERROR_REASON_NODE_LOST: the ErrorInfo reason on the wire."""
    return errors_pb2.ErrorReason.Name(reason).removeprefix(REASON_PREFIX)


def reason_from_name(name: str) -> Reason:
    """The reason an ErrorInfo names; UNSPECIFIED for one this build does not know."""
    try:
        return errors_pb2.ErrorReason.Value(REASON_PREFIX + name)
    except ValueError:
        return UNSPECIFIED


def rich_status(
    code: grpc.StatusCode, message: str, reason: Reason, retry_after: float | None = None
) -> status_pb2.Status:
    """The google.rpc.Status a failed relay call carries."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason_name(reason), domain=ERROR_DOMAIN))
    details = [info]
    if retry_after is not None:
        retry = any_pb2.Any()
        retry.Pack(error_details_pb2.RetryInfo(retry_delay=to_duration(retry_after)))
        details.append(retry)
    return status_pb2.Status(code=code.value[0], message=message, details=details)


class RelayCallError(Exception):
    """A failed relay call: its gRPC code, the relay's message and reason, and how long
    to wait before retrying (seconds) when the relay said so."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: Reason = UNSPECIFIED,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.retry_after = retry_after

    @property
    def reason_name(self) -> str:
        return reason_name(self.reason)

    def __str__(self) -> str:
        return f"{self.reason_name if self.reason else self.code.name}: {self.message}"


class RelayUnreachable(RelayCallError):
    """The relay cannot be reached (or does not serve the service called)."""

    def __init__(self, address: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, f"cannot reach the relay at {address} ({details})")
        self.address = address
        self.details = details

    def __str__(self) -> str:
        return self.message


def from_status(status: status_pb2.Status) -> RelayCallError:
    """The error a google.rpc.Status describes (a unary call's, or a stream's CallError)."""
    reason, retry_after = UNSPECIFIED, None
    for detail in status.details:
        info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
        if detail.Unpack(info):  # False for a detail of another type
            if info.domain == ERROR_DOMAIN:
                reason = reason_from_name(info.reason)
        elif detail.Unpack(retry):
            retry_after = to_seconds(retry.retry_delay)
    code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
    return RelayCallError(code, status.message, reason, retry_after)


def from_rpc_error(error: grpc.aio.AioRpcError) -> RelayCallError:
    """The RelayCallError for a failed call, from its status details when it has them."""
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            return from_status(status_pb2.Status.FromString(value))
    return RelayCallError(error.code(), error.details() or "")
