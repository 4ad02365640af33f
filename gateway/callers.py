"""Who is calling, read from the HTTP request: what the relay needs for auth, limits
and billing (forwarded as gRPC metadata, `tokenplace.client.metadata`), and the
operator token a caller presents. The gateway judges neither; the relay does."""

from __future__ import annotations

from fastapi import Request

from tokenplace.client.metadata import Caller

OPERATOR_HEADER = "x-token-place-operator"


def caller_of(request: Request) -> Caller:
    authorization = request.headers.get("authorization", "").strip()
    if not (authorization.isascii() and authorization.isprintable()):
        authorization = "Bearer invalid"  # not a key; the relay answers 401
    host = request.client.host if request.client else "unknown"
    return Caller(authorization=authorization, client_ip=host)


def operator_token(request: Request) -> str:
    """`X-Token-Place-Operator`, else `Authorization: Bearer` ("" when none); the relay
    compares it in constant time."""
    token = request.headers.get(OPERATOR_HEADER)
    if not token:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials if scheme.lower() == "bearer" else ""
    token = token.strip()
    # gRPC metadata must be printable ASCII; anything else cannot be a valid token.
    return token if token.isascii() and token.isprintable() else ""
