"""The OpenAI error shape on every route, and the one table from relay statuses to HTTP."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.rpc import error_details_pb2, status_pb2
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
# Relay ErrorInfo reason -> (HTTP status, OpenAI error code). The one place this mapping lives.
RELAY_REASONS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request"),
    "bad_envelope": (400, "bad_envelope"),
    "model_not_found": (404, "model_not_found"),  # param: "model", see from_rpc_error
    "node_not_found": (404, "node_not_found"),
    "cancelled": (410, "request_cancelled"),
    "queue_full": (429, "rate_limit_error"),
    "upstream_error": (502, "upstream_error"),
    "no_compute_node_available": (503, "no_compute_node_available"),
    "node_lost": (503, "node_lost"),
    "node_busy": (503, "node_busy"),
    "timeout": (504, "timeout"),
    "operator_auth_not_configured": (503, "operator_auth_not_configured"),
    "operator_token_invalid": (401, "operator_token_invalid"),
    "unknown_request": (404, "unknown_request"),
    "invalid_api_key": (401, "invalid_api_key"),
    "insufficient_tokens": (402, "insufficient_tokens"),
    "rate_limit_error": (429, "rate_limit_error"),
    "accounting_unavailable": (500, "api_error"),
    "provider_directory_unavailable": (500, "provider_directory_unavailable"),
    "cancel_proof_invalid": (403, "cancel_proof_invalid"),
    "request_already_finished": (409, "request_already_finished"),
    "node_credential_invalid": (401, "node_credential_invalid"),
    "join_token_invalid": (401, "join_token_invalid"),
    "join_token_not_configured": (404, "join_token_not_configured"),
    "node_already_connected": (409, "node_already_connected"),
    "instance_not_found": (404, "instance_not_found"),
    "processing_unit_not_found": (404, "processing_unit_not_found"),
    "software_not_found": (404, "software_not_found"),
    "invalid_instance_token": (401, "invalid_instance_token"),
}
# Fallback for statuses without ErrorInfo, e.g. the relay itself is unreachable.
GRPC_CODES: dict[grpc.StatusCode, tuple[int, str]] = {
    # The relay enforces rate limits and accounting: unreachable, it is Tok0n's
    # "gateway safety infrastructure is unavailable".
    grpc.StatusCode.UNAVAILABLE: (503, "rate_limit_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "timeout"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate_limit_error"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "invalid_api_key"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "permission_denied"),
    grpc.StatusCode.CANCELLED: (410, "request_cancelled"),
}
RETRY_AFTER_SECONDS = {429: 1, 503: 2}


class APIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        param: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = error_type or _TYPES.get(status, "api_error")
        self.retry_after: int | None = RETRY_AFTER_SECONDS.get(status)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def relay_error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo the relay attached to a failed call, if any."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    return None


def relay_reason(error: grpc.aio.AioRpcError) -> str | None:
    """The ErrorInfo reason the relay attached to a failed call, if any."""
    info = relay_error_info(error)
    return info.reason if info is not None else None


def from_rpc_error(error: grpc.aio.AioRpcError) -> APIError:
    info = relay_error_info(error)
    reason, metadata = (info.reason, dict(info.metadata)) if info is not None else ("", {})
    return relay_api_error(error.code(), error.details() or "", reason, metadata)


def relay_api_error(
    grpc_code: grpc.StatusCode, details: str, reason: str, metadata: Mapping[str, str]
) -> APIError:
    """The HTTP error for a failed relay call: its ErrorInfo reason first, else its code."""
    if reason in RELAY_REASONS:
        status, code = RELAY_REASONS[reason]
        param = "model" if code == "model_not_found" else None
        api_error = APIError(status, details or code, code, param)
        if metadata.get("retry_after", "").isdigit():
            api_error.retry_after = int(metadata["retry_after"])
        return api_error
    status, code = GRPC_CODES.get(grpc_code, (502, "upstream_error"))
    if code == "rate_limit_unavailable":
        return APIError(
            status,
            "the relay (which enforces rate limits and accounting) is unreachable; "
            "try again shortly",
            code,
        )
    return APIError(status, details or code, code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return exc.response()


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_api_error(exc.errors()).response()


def validation_api_error(errors: Any) -> APIError:
    """FastAPI's 422 becomes an OpenAI 400 naming the first bad parameter."""
    first = next(iter(errors), {})
    loc = [part for part in first.get("loc", ()) if part != "body"]
    kind = first.get("type")
    if kind == "json_invalid":
        return APIError(400, "the request body is not valid JSON", "invalid_request")
    if kind == "plaintext_forbidden":
        field = first.get("ctx", {}).get("field")
        return APIError(400, str(first.get("msg")), "plaintext_forbidden", field)
    param = _param_path(loc)
    if kind == "extra_forbidden":
        return APIError(
            400,
            f"unexpected field {param!r}: this route accepts only its documented fields",
            "unexpected_field",
            param,
        )
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    return APIError(400, f"{param}: {message}" if param else message, "invalid_request", param)


def _param_path(loc: list[Any]) -> str | None:
    path = ""
    if loc and loc[0] in ("query", "header", "path", "cookie"):
        loc = loc[1:]  # the parameter's own name is what the caller needs
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("function-", "tagged-union")) and part not in (
            "str",
            "list[ChatMessageIn]",
            "EncryptedPayload",
        ):
            path += f".{part}" if path else str(part)
    return path or None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    message = str(exc.detail) if exc.detail else code
    if exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    response = APIError(exc.status_code, message, code).response()
    response.headers.update(exc.headers or {})  # e.g. Allow on a 405
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return APIError(500, "internal error; it has been logged", "api_error").response()
