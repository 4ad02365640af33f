"""Operator authentication for the relay's privileged RPCs."""

from __future__ import annotations

import hmac
from typing import Any

import grpc

from tokenplace.client.metadata import OPERATOR, metadata_value
from tokenplace.relay.errors import RelayError
from tokenplace.v1 import errors_pb2


class OperatorAuthNotConfigured(RelayError):
    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = errors_pb2.ERROR_REASON_OPERATOR_AUTH_NOT_CONFIGURED


class OperatorTokenInvalid(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_OPERATOR_TOKEN_INVALID


class OperatorAuth:
    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    def require(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        """Raise unless the call carries the configured operator token (constant time)."""
        if self._token is None:
            raise OperatorAuthNotConfigured(
                "operator actions are disabled: set TOKENPLACE_RELAY_OPERATOR_TOKEN on the relay"
            )
        presented = metadata_value(context.invocation_metadata(), OPERATOR)
        if presented is None or not hmac.compare_digest(presented.encode(), self._token):
            raise OperatorTokenInvalid("a valid operator token is required")
