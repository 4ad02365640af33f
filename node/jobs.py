"""Runs one sealed job: open, check, generate, seal. Blocking; call from a worker thread.

Nothing here logs or raises content: failures carry reasons, never prompts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from tokenplace.e2ee import DecryptionError, Envelope, same_public_key
from tokenplace.e2ee.payload import InnerError, InnerRequest, InnerResponse, JobRequest
from tokenplace.e2ee.session import Opener, Sealer
from tokenplace.node.engines.base import (
    ContextTooLong,
    Engine,
    Generation,
    GenerationCancelled,
    GenerationRequest,
)

log = logging.getLogger(__name__)


class Failure(Enum):
    BAD_ENVELOPE = "bad_envelope"
    UNKNOWN_MODEL = "unknown_model"
    ENGINE_ERROR = "engine_error"
    CANCELLED = "cancelled"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class JobTicket:
    job_id: str
    model: str
    client_public_key: str
    request_id: str
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class JobReply:
    job_id: str
    sealed: Envelope | None = None
    failure: Failure | None = None
    failure_message: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


class JobRunner:
    def __init__(self, engine: Engine, private_key: rsa.RSAPrivateKey) -> None:
        self.engine = engine
        self.private_key = private_key
        # Senders that keep an AES session (gateways do) cost no RSA operation per job.
        self.opener = Opener(private_key)
        self.sealer = Sealer()

    def run(self, ticket: JobTicket, cancelled: threading.Event) -> JobReply:
        try:
            inner = self._open(ticket)
        except _Refused as refused:
            return JobReply(ticket.job_id, failure=refused.failure, failure_message=refused.message)
        served = self.engine.model.id
        if inner.request.model != served:
            if ticket.model:  # the relay routed it here by model: its mistake, retry elsewhere
                return JobReply(
                    ticket.job_id,
                    failure=Failure.UNKNOWN_MODEL,
                    failure_message=f"this node serves {served!r}",
                )
            # A relay-blind request named this node itself: tell the client, sealed.
            error = InnerError(
                message=f"this node serves {served!r}", param="model", code="model_not_found"
            )
            return self._seal(ticket, InnerResponse(request_id=ticket.request_id, error=error))
        return self._generate(ticket, inner.request, cancelled)

    def _open(self, ticket: JobTicket) -> InnerRequest:
        try:
            inner = self.opener.open_model(ticket.envelope, InnerRequest)
        except DecryptionError as exc:
            raise _Refused(Failure.BAD_ENVELOPE, str(exc)) from exc
        except ValidationError as exc:
            raise _Refused(Failure.BAD_ENVELOPE, "sealed payload is not an API v1 request") from exc
        if inner.request_id != ticket.request_id or not same_public_key(
            inner.client_public_key, ticket.client_public_key
        ):
            raise _Refused(Failure.BAD_ENVELOPE, "sealed ids differ from the routing ids")
        if ticket.model and inner.request.model != ticket.model:
            raise _Refused(Failure.BAD_ENVELOPE, "sealed model differs from the routed model")
        return inner

    def _generate(
        self, ticket: JobTicket, request: JobRequest, cancelled: threading.Event
    ) -> JobReply:
        try:
            generation = self.engine.generate(to_generation_request(request), cancelled)
        except GenerationCancelled:
            return JobReply(ticket.job_id, failure=Failure.CANCELLED, failure_message="cancelled")
        except ContextTooLong as exc:
            error = InnerError(message=str(exc), param="messages", code="context_length_exceeded")
            return self._seal(ticket, InnerResponse(request_id=ticket.request_id, error=error))
        except Exception as exc:
            # The type only: an engine's message or traceback could quote the prompt.
            log.error("engine failed: %s", type(exc).__name__, extra={"job_id": ticket.job_id})
            return JobReply(
                ticket.job_id, failure=Failure.ENGINE_ERROR, failure_message=type(exc).__name__
            )
        body = openai_response(request, generation)
        reply = InnerResponse(request_id=ticket.request_id, response=body)
        return self._seal(ticket, reply, generation)

    def _seal(
        self, ticket: JobTicket, reply: InnerResponse, generation: Generation | None = None
    ) -> JobReply:
        sealed = self.sealer.seal_model(reply, ticket.client_public_key)
        return JobReply(
            ticket.job_id,
            sealed=sealed,
            prompt_tokens=generation.prompt_tokens if generation else 0,
            completion_tokens=generation.completion_tokens if generation else 0,
        )


class _Refused(Exception):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


def to_generation_request(request: JobRequest) -> GenerationRequest:
    options = request.options
    return GenerationRequest(
        kind=request.kind,
        messages=[m.model_dump(exclude_none=True) for m in request.messages or []],
        prompt=request.prompt or "",
        max_tokens=options.max_tokens,
        temperature=options.temperature,
        top_p=options.top_p,
        stop=options.stop_sequences(),
        seed=options.seed,
    )


def openai_response(request: JobRequest, generation: Generation) -> dict[str, Any]:
    """The OpenAI-shaped chat.completion or text_completion for one generation."""
    usage = {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.prompt_tokens + generation.completion_tokens,
    }
    created = int(time.time())
    if request.kind == "chat":
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": created,
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": generation.text},
                    "logprobs": None,
                    "finish_reason": generation.finish_reason,
                }
            ],
            "usage": usage,
        }
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": created,
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "text": generation.text,
                "logprobs": None,
                "finish_reason": generation.finish_reason,
            }
        ],
        "usage": usage,
    }
