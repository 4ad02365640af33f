"""JobRunner: open a sealed job, check it against its routing fields, generate, seal back."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.e2ee import (
    DecryptionError,
    generate_private_key,
    open_json,
    public_key_b64,
    seal_json,
)
from tokenplace.e2ee.payload import InnerRequest, JobRequest
from tokenplace.node.engines.base import ContextTooLong, Generation, GenerationRequest
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.jobs import Failure, JobReply, JobRunner, JobTicket

SENTINEL = "SENTINEL-PROMPT-9c1e4f"
REQUEST_ID = "req-42"


@pytest.fixture(scope="module")
def node_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def stranger_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture
def runner(node_key: rsa.RSAPrivateKey) -> JobRunner:
    return JobRunner(EchoEngine(), node_key)


class CancelOnWait(threading.Event):
    """Sets itself on the n-th token wait: a cancel arriving mid-generation."""

    def __init__(self, on_wait: int) -> None:
        super().__init__()
        self.on_wait = on_wait
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.waits == self.on_wait:
            self.set()
        return super().wait(timeout)


class RaisingEngine(EchoEngine):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        raise self.error


def chat_request(content: str = f"hello {SENTINEL}", **options: Any) -> dict[str, Any]:
    return {"model": "echo", "messages": [{"role": "user", "content": content}], "options": options}


def inner(client: rsa.RSAPrivateKey, request: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    payload = {"request_id": REQUEST_ID, "client_public_key": public_key_b64(client)}
    return {**payload, "request": request, **overrides}


def ticket_for(
    payload: dict[str, Any],
    sealed_to: rsa.RSAPrivateKey,
    client: rsa.RSAPrivateKey,
    model: str = "echo",
) -> JobTicket:
    return JobTicket(
        job_id="job-1",
        model=model,
        client_public_key=public_key_b64(client),
        request_id=REQUEST_ID,
        envelope=seal_json(payload, sealed_to.public_key()),
    )


def run(runner: JobRunner, ticket: JobTicket, cancelled: threading.Event | None = None) -> JobReply:
    return runner.run(ticket, cancelled or threading.Event())


def assert_refused(reply: JobReply, failure: Failure) -> None:
    assert reply.failure is failure
    assert reply.sealed is None
    assert SENTINEL not in reply.failure_message
    assert (reply.prompt_tokens, reply.completion_tokens) == (0, 0)


# --- success ---------------------------------------------------------------------------------


def test_chat_job_returns_sealed_chat_completion(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    payload = InnerRequest(
        request_id=REQUEST_ID,
        client_public_key=public_key_b64(client_key),
        request=JobRequest.model_validate(chat_request("hi there")),
    ).model_dump(exclude_none=True)
    reply = run(runner, ticket_for(payload, node_key, client_key))
    assert reply.failure is None and reply.sealed is not None
    opened = open_json(reply.sealed, client_key)
    assert set(opened) == {"request_id", "response"}
    assert opened["request_id"] == REQUEST_ID
    response = opened["response"]
    assert response["object"] == "chat.completion"
    assert response["model"] == "echo"
    assert response["choices"][0]["message"] == {"role": "assistant", "content": "echo: hi there"}
    assert response["choices"][0]["finish_reason"] == "stop"
    assert response["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_reply_reports_the_usage_it_sealed(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    reply = run(
        runner, ticket_for(inner(client_key, chat_request("a b c d")), node_key, client_key)
    )
    assert reply.sealed is not None
    usage = open_json(reply.sealed, client_key)["response"]["usage"]
    assert (reply.prompt_tokens, reply.completion_tokens) == (4, 5)
    assert usage["prompt_tokens"] == reply.prompt_tokens
    assert usage["completion_tokens"] == reply.completion_tokens


def test_reply_is_not_readable_by_the_node(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    reply = run(runner, ticket_for(inner(client_key, chat_request()), node_key, client_key))
    assert reply.sealed is not None
    with pytest.raises(DecryptionError):
        open_json(reply.sealed, node_key)


def test_text_completion_job(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    request = {"model": "echo", "prompt": "once upon", "options": {"max_tokens": 2}}
    reply = run(runner, ticket_for(inner(client_key, request), node_key, client_key))
    assert reply.sealed is not None
    response = open_json(reply.sealed, client_key)["response"]
    assert response["object"] == "text_completion"
    assert response["choices"][0]["text"] == "echo: once"
    assert response["choices"][0]["finish_reason"] == "length"
    assert response["usage"]["total_tokens"] == 2 + 2


def test_client_key_in_raw_pem_matches_base64_routing_key(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    pem = client_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = inner(client_key, chat_request(), client_public_key=pem.decode())
    reply = run(runner, ticket_for(payload, node_key, client_key))
    assert reply.failure is None


def test_context_too_long_is_a_sealed_error(
    node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    runner = JobRunner(RaisingEngine(ContextTooLong("prompt exceeds 2048 tokens")), node_key)
    reply = run(runner, ticket_for(inner(client_key, chat_request()), node_key, client_key))
    assert reply.failure is None and reply.sealed is not None
    opened = open_json(reply.sealed, client_key)
    assert opened["request_id"] == REQUEST_ID
    assert "response" not in opened
    assert opened["error"]["code"] == "context_length_exceeded"


# --- refusals ----------------------------------------------------------------------------------


def test_inner_request_id_must_match_ticket(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    payload = inner(client_key, chat_request(), request_id="someone-elses-request")
    assert_refused(run(runner, ticket_for(payload, node_key, client_key)), Failure.BAD_ENVELOPE)


def test_inner_client_key_must_match_ticket(
    runner: JobRunner,
    node_key: rsa.RSAPrivateKey,
    client_key: rsa.RSAPrivateKey,
    stranger_key: rsa.RSAPrivateKey,
) -> None:
    payload = inner(stranger_key, chat_request())
    assert_refused(run(runner, ticket_for(payload, node_key, client_key)), Failure.BAD_ENVELOPE)


def test_envelope_sealed_to_another_node_is_refused(
    runner: JobRunner, client_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey
) -> None:
    ticket = ticket_for(inner(client_key, chat_request()), stranger_key, client_key)
    assert_refused(run(runner, ticket), Failure.BAD_ENVELOPE)


def test_inner_model_must_match_ticket_model(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    request = {**chat_request(), "model": "other-model"}
    ticket = ticket_for(inner(client_key, request), node_key, client_key)
    assert_refused(run(runner, ticket), Failure.BAD_ENVELOPE)


def test_model_the_node_does_not_serve(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    request = {**chat_request(), "model": "llama-70b"}
    ticket = ticket_for(inner(client_key, request), node_key, client_key, model="llama-70b")
    assert_refused(run(runner, ticket), Failure.UNKNOWN_MODEL)


@pytest.mark.parametrize(
    "options",
    [{"temperature": 5}, {"top_p": 0}, {"max_tokens": 0}, {"stop": ["a", "b", "c", "d", "e"]}],
)
def test_invalid_sampling_options_are_refused(
    runner: JobRunner,
    node_key: rsa.RSAPrivateKey,
    client_key: rsa.RSAPrivateKey,
    options: dict[str, Any],
) -> None:
    ticket = ticket_for(inner(client_key, chat_request(**options)), node_key, client_key)
    assert_refused(run(runner, ticket), Failure.BAD_ENVELOPE)


@pytest.mark.parametrize(
    "payload",
    [
        {"request_id": REQUEST_ID},
        [SENTINEL],
        {"request_id": REQUEST_ID, "client_public_key": "k", "request": {"prompt": SENTINEL}},
    ],
)
def test_payload_that_is_not_a_request_is_refused(
    runner: JobRunner,
    node_key: rsa.RSAPrivateKey,
    client_key: rsa.RSAPrivateKey,
    payload: Any,
) -> None:
    assert_refused(run(runner, ticket_for(payload, node_key, client_key)), Failure.BAD_ENVELOPE)


def test_extra_fields_in_payload_are_refused(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    payload = inner(client_key, chat_request(), smuggled=SENTINEL)
    assert_refused(run(runner, ticket_for(payload, node_key, client_key)), Failure.BAD_ENVELOPE)


# --- cancellation and engine failures ----------------------------------------------------------


def test_cancelled_before_generation(
    runner: JobRunner, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    cancelled = threading.Event()
    cancelled.set()
    ticket = ticket_for(inner(client_key, chat_request()), node_key, client_key)
    assert_refused(run(runner, ticket, cancelled), Failure.CANCELLED)


def test_cancelled_during_generation(
    node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    runner = JobRunner(EchoEngine(token_delay_seconds=0.001), node_key)
    cancelled = CancelOnWait(on_wait=3)
    ticket = ticket_for(inner(client_key, chat_request("a b c d e f")), node_key, client_key)
    assert_refused(run(runner, ticket, cancelled), Failure.CANCELLED)
    assert cancelled.waits == 3


def test_engine_crash_reports_no_content(
    node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> None:
    runner = JobRunner(RaisingEngine(RuntimeError(f"failed on {SENTINEL}")), node_key)
    ticket = ticket_for(inner(client_key, chat_request()), node_key, client_key)
    reply = run(runner, ticket)
    assert_refused(reply, Failure.ENGINE_ERROR)
    assert reply.failure_message == "RuntimeError"
