"""POST /chat/completions and /completions (non-streaming: plaintext, encrypted, or a
sealed envelope forwarded to a node), and GET /api/jobs/{id} for async completions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import JSONResponse

from tokenplace.e2ee.payload import ChatMessage, JobRequest, SamplingOptions
from tokenplace.gateway.callers import caller_of
from tokenplace.gateway.chat import encrypted
from tokenplace.gateway.chat.protocol import (
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageIn,
    CompletionRequest,
    EncryptedResponse,
    JobStatus,
    TextCompletion,
)
from tokenplace.gateway.disconnect import cancel_on_disconnect
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.json_body import json_body, openapi_body
from tokenplace.gateway.mounting import API, OPENAI_COMPATIBLE, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.protocol import EncryptedPayload
from tokenplace.gateway.services import Services, ServicesDep

router = APIRouter(tags=["completions"])
jobs_router = APIRouter(tags=["jobs"])
# Parsed by gateway.json_body: documented in gateway.openapi, not by a body parameter.
BODY_MODELS = (ChatCompletionRequest, CompletionRequest)
ERRORS = error_responses(400, 401, 402, 404, 410, 429, 502, 503, 504)


def attach(app: FastAPI) -> None:
    mount(app, router, OPENAI_COMPATIBLE)
    mount(app, jobs_router, API)


@router.post(
    "/chat/completions",
    response_model=None,
    openapi_extra=openapi_body(ChatCompletionRequest),
    responses={
        200: {"model": ChatCompletion | EncryptedResponse},
        202: {"model": JobStatus, "description": "Accepted with `Prefer: respond-async`"},
        **ERRORS,
    },
)
async def create_chat_completion(request: Request, services: ServicesDep) -> JSONResponse:
    body = await json_body(request, ChatCompletionRequest)
    if body.encrypted and body.server_public_key:
        return await _forward_to_node(request, services, body)
    if body.encrypted:
        client_key: str | None = encrypted.require_client_key(body.client_public_key)
        messages = encrypted.open_messages(services.identity, body.messages)
    elif isinstance(body.messages, EncryptedPayload):
        raise APIError(
            400, "messages is an envelope but encrypted is not true", "invalid_request", "encrypted"
        )
    else:
        messages = body.messages
        client_key = None
    job = JobRequest(model=body.model, messages=_inner_messages(messages), options=_options(body))
    if client_key is None and _wants_async(request):
        reply = await services.jobs.submit(job, caller_of(request))
        return JSONResponse(reply, status_code=202, headers={"Preference-Applied": "respond-async"})
    return await _run(request, services, job, client_key)


def _wants_async(request: Request) -> bool:
    """RFC 7240 `Prefer: respond-async` (Token Router's async chat completions)."""
    preferences = request.headers.get("prefer", "").lower().replace(" ", "").split(",")
    return "respond-async" in preferences


@router.post(
    "/completions",
    response_model=None,
    openapi_extra=openapi_body(CompletionRequest),
    responses={200: {"model": TextCompletion | EncryptedResponse}, **ERRORS},
)
async def create_completion(request: Request, services: ServicesDep) -> JSONResponse:
    body = await json_body(request, CompletionRequest)
    if body.encrypted:
        client_key: str | None = encrypted.require_client_key(body.client_public_key)
        prompt = encrypted.open_field(services.identity, body.prompt, "prompt")
    elif isinstance(body.prompt, EncryptedPayload):
        raise APIError(
            400, "prompt is an envelope but encrypted is not true", "invalid_request", "encrypted"
        )
    else:
        prompt = body.prompt
        client_key = None
    job = JobRequest(model=body.model, prompt=_single_prompt(prompt), options=_options(body))
    return await _run(request, services, job, client_key)


@jobs_router.get(
    "/jobs/{job_id}",
    response_model=JobStatus,
    response_model_exclude_none=True,
    responses=error_responses(400, 404, 502, 503),
)
async def get_job(
    services: ServicesDep,
    job_id: str = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$"),
) -> dict[str, Any]:
    """queued → running → completed (with `result`) or failed (with `error`)."""
    return await services.jobs.get(job_id)


async def _forward_to_node(
    request: Request, services: Services, body: ChatCompletionRequest
) -> JSONResponse:
    client_key = encrypted.require_client_key(body.client_public_key)
    if not body.request_id:
        raise APIError(
            400,
            "sealed requests to a node need the request_id sealed inside",
            "invalid_request",
            "request_id",
        )
    envelope = encrypted.envelope_field(body.messages, "messages")
    sealed = await cancel_on_disconnect(
        request,
        services.completions.forward_sealed(
            body.server_public_key or "",
            body.model,
            client_key,
            body.request_id,
            envelope,
            caller_of(request),
        ),
    )
    return JSONResponse(encrypted.sealed_reply(sealed).model_dump())


async def _run(
    request: Request, services: Services, job: JobRequest, client_key: str | None
) -> JSONResponse:
    result = await cancel_on_disconnect(
        request, services.completions.complete(job, caller_of(request))
    )
    if client_key is None:
        return JSONResponse(result)
    sealed = encrypted.seal_response(services.identity, result, client_key)
    return JSONResponse(sealed.model_dump())


def _inner_messages(messages: list[ChatMessageIn]) -> list[ChatMessage]:
    return [ChatMessage(role=m.role, content=m.text(), name=m.name) for m in messages]


def _single_prompt(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    raise APIError(
        400,
        "prompt must be a string (or a list of exactly one string)",
        "invalid_request",
        "prompt",
    )


def _options(body: SamplingOptions) -> SamplingOptions:
    return SamplingOptions.model_validate(
        body.model_dump(include=set(SamplingOptions.model_fields), exclude_none=True)
    )
