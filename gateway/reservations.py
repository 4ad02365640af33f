"""How many tokens a request may cost, reserved before dispatch (Tok0n's model): the
relay holds that much of the caller's balance and charges the real usage after."""

from __future__ import annotations

from tokenplace.e2ee import Envelope
from tokenplace.e2ee.payload import JobRequest

# Reserved for a request that does not say max_tokens.
DEFAULT_RESERVED_COMPLETION_TOKENS = 512
CHARS_PER_TOKEN_ESTIMATE = 4


def reservation_estimate(job: JobRequest) -> int:
    """Prompt tokens (by characters) plus the completion budget."""
    text = job.prompt or "".join(m.content for m in job.messages or [])
    prompt = len(text) // CHARS_PER_TOKEN_ESTIMATE + 1
    completion = job.options.max_tokens or DEFAULT_RESERVED_COMPLETION_TOKENS
    return prompt + completion


def sealed_estimate(envelope: Envelope) -> int:
    """For a request the gateway cannot read: its size, plus the default completion budget."""
    return len(envelope.ciphertext) // CHARS_PER_TOKEN_ESTIMATE + DEFAULT_RESERVED_COMPLETION_TOKENS
