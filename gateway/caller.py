"""Who is calling: the credentials and address the relay needs for auth, limits, billing.

The gateway does not judge them; it forwards them as gRPC metadata and the
relay (which owns accounts and limits) decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from tokenplace.e2ee import Envelope
from tokenplace.e2ee.payload import JobRequest

# Reserved for a request that does not say max_tokens (Tok0n-style reservation).
DEFAULT_RESERVED_COMPLETION_TOKENS = 512
CHARS_PER_TOKEN_ESTIMATE = 4


@dataclass(frozen=True, slots=True)
class Caller:
    authorization: str
    client_ip: str

    def metadata(self, reserve_tokens: int | None = None) -> tuple[tuple[str, str], ...]:
        pairs = [("x-tokenplace-client-ip", self.client_ip)]
        if self.authorization:
            pairs.append(("authorization", self.authorization))
        if reserve_tokens is not None:
            pairs.append(("x-tokenplace-reserve-tokens", str(reserve_tokens)))
        return tuple(pairs)


def caller_of(request: Request) -> Caller:
    authorization = request.headers.get("authorization", "").strip()
    if not (authorization.isascii() and authorization.isprintable()):
        authorization = "Bearer invalid"  # not a key; the relay answers 401
    host = request.client.host if request.client else "unknown"
    return Caller(authorization=authorization, client_ip=host)


def reservation_estimate(job: JobRequest) -> int:
    """Prompt tokens (by characters) plus the completion budget, reserved before dispatch."""
    text = job.prompt or "".join(m.content for m in job.messages or [])
    prompt = len(text) // CHARS_PER_TOKEN_ESTIMATE + 1
    completion = job.options.max_tokens or DEFAULT_RESERVED_COMPLETION_TOKENS
    return prompt + completion


def sealed_estimate(envelope: Envelope) -> int:
    """For a request the gateway cannot read: its size, plus the default completion budget."""
    return len(envelope.ciphertext) // CHARS_PER_TOKEN_ESTIMATE + DEFAULT_RESERVED_COMPLETION_TOKENS
