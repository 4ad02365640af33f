"""gRPC metadata keys of the gateway-relay contract, and the pairs callers send.

The gateway does not judge a caller: it forwards the caller's credentials and
address under these keys, and the relay (which owns accounts and limits) decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AUTHORIZATION = "authorization"
# The HTTP caller's address, for per-IP limits in open mode.
CLIENT_IP = "x-tokenplace-client-ip"
# Tokens to reserve before dispatch (the gateway's estimate of prompt + completion).
RESERVE_TOKENS = "x-tokenplace-reserve-tokens"
# The operator token for privileged RPCs; the relay compares it in constant time.
OPERATOR = "x-tokenplace-operator"

Metadata = Sequence[tuple[str, str]]
# What a server reads: values arrive as str, or bytes for "-bin" keys.
ReceivedMetadata = Iterable[tuple[str, str | bytes]]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the Authorization header as given, and the client's address."""

    authorization: str
    client_ip: str

    def metadata(self, reserve_tokens: int | None = None) -> tuple[tuple[str, str], ...]:
        pairs = [(CLIENT_IP, self.client_ip)]
        if self.authorization:
            pairs.append((AUTHORIZATION, self.authorization))
        if reserve_tokens is not None:
            pairs.append((RESERVE_TOKENS, str(reserve_tokens)))
        return tuple(pairs)


def operator_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The operator token as call metadata; none when the token is absent or could not
    travel as gRPC metadata (printable ASCII only), which the relay refuses as missing."""
    if token and token.isascii() and token.isprintable():
        return ((OPERATOR, token),)
    return ()


def metadata_value(metadata: ReceivedMetadata | None, key: str) -> str | None:
    """The first value under `key` (str or bytes on the wire), or None."""
    for item_key, value in metadata or ():
        if item_key == key:
            return value if isinstance(value, str) else bytes(value).decode()
    return None
