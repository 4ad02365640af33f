"""The operator token a caller presents: `X-Token-Place-Operator` or `Authorization: Bearer`."""

from __future__ import annotations

from fastapi import Request

OPERATOR_HEADER = "x-token-place-operator"
OPERATOR_METADATA_KEY = "x-tokenplace-operator"


def operator_token(request: Request) -> str:
    """The presented token ("" when none); the relay checks it in constant time."""
    token = request.headers.get(OPERATOR_HEADER)
    if not token:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials if scheme.lower() == "bearer" else ""
    token = token.strip()
    # gRPC metadata must be printable ASCII; anything else cannot be a valid token.
    return token if token.isascii() and token.isprintable() else ""


def operator_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((OPERATOR_METADATA_KEY, token),) if token else ()
