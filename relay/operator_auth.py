"""Operator authentication for the relay's privileged RPCs."""

from __future__ import annotations

import hmac

import grpc

from tokenplace.relay.errors import RelayError

OPERATOR_METADATA_KEY = "x-tokenplace-operator"


class OperatorAuthNotConfigured(RelayError):
    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "operator_auth_not_configured"


class OperatorTokenInvalid(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = "operator_token_invalid"


class OperatorAuth:
    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    def require(self, context: grpc.aio.ServicerContext) -> None:
        """Raise unless the call carries the configured operator token (constant time)."""
        if self._token is None:
            raise OperatorAuthNotConfigured(
                "operator actions are disabled: set TOKENPLACE_RELAY_OPERATOR_TOKEN on the relay"
            )
        presented = _metadata_value(context, OPERATOR_METADATA_KEY)
        if presented is None or not hmac.compare_digest(presented.encode(), self._token):
            raise OperatorTokenInvalid("a valid operator token is required")


def _metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else value.decode()
    return None
