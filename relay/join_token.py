"""The network join token: when the relay is configured with one, a node must present
it to register (gRPC stream or HTTP polling). Compared in constant time, never logged."""

from __future__ import annotations

import hmac

import grpc

from tokenplace.relay.errors import RelayError
from tokenplace.v1 import errors_pb2

JOIN_TOKEN_HEADER = "X-Tokenplace-Join-Token"  # noqa: S105 (a header name)
_HOW_TO_FIX = (
    "start the node with --join-token or TOKENPLACE_NODE_JOIN_TOKEN "
    f"(HTTP nodes send it as the {JOIN_TOKEN_HEADER} header); "
    "the relay operator can read it with GetJoinToken or GET /api/p2p/token"
)


class JoinTokenInvalid(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_JOIN_TOKEN_INVALID


class JoinTokenNotConfigured(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_JOIN_TOKEN_NOT_CONFIGURED


class JoinGate:
    """Admits nodes presenting the configured token; admits every node when none is set."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    @property
    def required(self) -> bool:
        return self._token is not None

    def check(self, presented: str) -> None:
        """Raise JoinTokenInvalid unless `presented` matches (or no token is configured)."""
        if self._token is None:
            return
        if not presented:
            raise JoinTokenInvalid(f"this relay requires a join token: {_HOW_TO_FIX}")
        if not hmac.compare_digest(presented.encode(), self._token):
            raise JoinTokenInvalid(f"the join token this node presented is wrong: {_HOW_TO_FIX}")

    def reveal(self) -> str:
        """The token itself, for the operator-only GetJoinToken."""
        if self._token is None:
            raise JoinTokenNotConfigured(
                "this relay admits nodes without a join token "
                "(set TOKENPLACE_RELAY_JOIN_TOKEN to require one)"
            )
        return self._token.decode()
