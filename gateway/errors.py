"""The OpenAI error shape on every route, and the one table from relay errors to HTTP.

Every `tokenplace.v1.ErrorReason` the relay can send has its HTTP status, OpenAI error
`type` and `code` in REASONS (a test walks the enum). A failed relay call without a
reason (the relay is unreachable, a deadline passed on the way) maps by its gRPC code.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tokenplace.client.errors import RelayCallError, RelayUnreachable
from tokenplace.v1 import errors_pb2 as reasons

log = logging.getLogger(__name__)

INVALID = "invalid_request_error"
AUTHENTICATION = "authentication_error"
PERMISSION = "permission_error"
RATE_LIMIT = "rate_limit_error"
API = "api_error"
_TYPES = {
    400: INVALID,
    401: AUTHENTICATION,
    402: "insufficient_quota",
    403: PERMISSION,
    404: INVALID,
    405: INVALID,
    409: INVALID,
    410: INVALID,
    413: INVALID,
    429: RATE_LIMIT,
}
RETRY_AFTER_SECONDS = {429: 1, 503: 2}


@dataclass(frozen=True, slots=True)
class HttpError:
    """How one relay reason reaches an HTTP caller."""

    status: int
    type: str
    code: str
    param: str | None = None


REASONS: dict[int, HttpError] = {
    reasons.ERROR_REASON_INVALID_REQUEST: HttpError(400, INVALID, "invalid_request"),
    reasons.ERROR_REASON_BAD_ENVELOPE: HttpError(400, INVALID, "bad_envelope"),
    reasons.ERROR_REASON_MODEL_NOT_FOUND: HttpError(404, INVALID, "model_not_found", "model"),
    reasons.ERROR_REASON_NODE_NOT_FOUND: HttpError(404, INVALID, "node_not_found"),
    reasons.ERROR_REASON_NO_COMPUTE_NODE_AVAILABLE: HttpError(
        503, API, "no_compute_node_available"
    ),
    reasons.ERROR_REASON_NODE_LOST: HttpError(503, API, "node_lost"),
    reasons.ERROR_REASON_NODE_BUSY: HttpError(503, API, "node_busy"),
    reasons.ERROR_REASON_QUEUE_FULL: HttpError(429, RATE_LIMIT, "rate_limit_error"),
    reasons.ERROR_REASON_TIMEOUT: HttpError(504, API, "timeout"),
    reasons.ERROR_REASON_CANCELLED: HttpError(410, INVALID, "request_cancelled"),
    reasons.ERROR_REASON_UPSTREAM_ERROR: HttpError(502, API, "upstream_error"),
    # An unexpected failure inside the relay: to this gateway, a failed upstream.
    reasons.ERROR_REASON_INTERNAL: HttpError(502, API, "upstream_error"),
    reasons.ERROR_REASON_INVALID_API_KEY: HttpError(401, AUTHENTICATION, "invalid_api_key"),
    reasons.ERROR_REASON_RATE_LIMITED: HttpError(429, RATE_LIMIT, "rate_limit_error"),
    reasons.ERROR_REASON_INSUFFICIENT_TOKENS: HttpError(
        402, "insufficient_quota", "insufficient_tokens"
    ),
    reasons.ERROR_REASON_ACCOUNTING_UNAVAILABLE: HttpError(500, API, "api_error"),
    reasons.ERROR_REASON_ACCOUNT_NOT_FOUND: HttpError(404, INVALID, "account_not_found"),
    reasons.ERROR_REASON_ACCOUNT_EXISTS: HttpError(409, INVALID, "account_exists", "name"),
    reasons.ERROR_REASON_API_KEY_NOT_FOUND: HttpError(404, INVALID, "api_key_not_found"),
    # Settling a reservation the relay cannot find is the relay's fault, not the caller's.
    reasons.ERROR_REASON_RESERVATION_NOT_FOUND: HttpError(500, API, "api_error"),
    reasons.ERROR_REASON_OPERATOR_AUTH_NOT_CONFIGURED: HttpError(
        503, API, "operator_auth_not_configured"
    ),
    reasons.ERROR_REASON_OPERATOR_TOKEN_INVALID: HttpError(
        401, AUTHENTICATION, "operator_token_invalid"
    ),
    reasons.ERROR_REASON_JOIN_TOKEN_INVALID: HttpError(401, AUTHENTICATION, "join_token_invalid"),
    reasons.ERROR_REASON_JOIN_TOKEN_NOT_CONFIGURED: HttpError(
        404, INVALID, "join_token_not_configured"
    ),
    reasons.ERROR_REASON_UNKNOWN_REQUEST: HttpError(404, INVALID, "unknown_request"),
    reasons.ERROR_REASON_CANCEL_PROOF_INVALID: HttpError(403, PERMISSION, "cancel_proof_invalid"),
    reasons.ERROR_REASON_REQUEST_ALREADY_FINISHED: HttpError(
        409, INVALID, "request_already_finished"
    ),
    reasons.ERROR_REASON_NODE_CREDENTIAL_INVALID: HttpError(
        401, AUTHENTICATION, "node_credential_invalid"
    ),
    reasons.ERROR_REASON_NODE_ALREADY_CONNECTED: HttpError(409, INVALID, "node_already_connected"),
    reasons.ERROR_REASON_INSTANCE_NOT_FOUND: HttpError(404, INVALID, "instance_not_found"),
    reasons.ERROR_REASON_INVALID_INSTANCE_TOKEN: HttpError(
        401, AUTHENTICATION, "invalid_instance_token"
    ),
    reasons.ERROR_REASON_PROCESSING_UNIT_NOT_FOUND: HttpError(
        404, INVALID, "processing_unit_not_found"
    ),
    reasons.ERROR_REASON_SOFTWARE_NOT_FOUND: HttpError(404, INVALID, "software_not_found"),
    reasons.ERROR_REASON_PROVIDER_DIRECTORY_UNAVAILABLE: HttpError(
        500, API, "provider_directory_unavailable"
    ),
}
# A failed call with no reason, e.g. the relay itself could not be reached.
GRPC_CODES: dict[grpc.StatusCode, HttpError] = {
    # The relay enforces rate limits and accounting: unreachable, it is Tok0n's
    # "gateway safety infrastructure is unavailable".
    grpc.StatusCode.UNAVAILABLE: HttpError(503, API, "rate_limit_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: HttpError(504, API, "timeout"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: HttpError(429, RATE_LIMIT, "rate_limit_error"),
    grpc.StatusCode.INVALID_ARGUMENT: HttpError(400, INVALID, "invalid_request"),
    grpc.StatusCode.NOT_FOUND: HttpError(404, INVALID, "not_found"),
    grpc.StatusCode.UNAUTHENTICATED: HttpError(401, AUTHENTICATION, "invalid_api_key"),
    grpc.StatusCode.PERMISSION_DENIED: HttpError(403, PERMISSION, "permission_denied"),
    grpc.StatusCode.CANCELLED: HttpError(410, INVALID, "request_cancelled"),
}
UPSTREAM = HttpError(502, API, "upstream_error")
RELAY_UNREACHABLE_MESSAGE = (
    "the relay (which enforces rate limits and accounting) is unreachable; try again shortly"
)


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
        self.type = error_type or _TYPES.get(status, API)
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


def from_relay(error: RelayCallError) -> APIError:
    """The HTTP error for a failed relay call: its reason first, else its gRPC code."""
    if isinstance(error, RelayUnreachable):  # LocalAI's P2P API: "subsystem not available"
        return APIError(500, f"P2P subsystem not available: {error.message}", "api_error")
    http = REASONS.get(error.reason) or GRPC_CODES.get(error.code, UPSTREAM)
    message = error.message or http.code
    if error.reason == reasons.ERROR_REASON_UNSPECIFIED and http.code == "rate_limit_unavailable":
        message = RELAY_UNREACHABLE_MESSAGE
    api_error = APIError(http.status, message, http.code, http.param, http.type)
    if error.retry_after is not None:
        api_error.retry_after = max(1, math.ceil(error.retry_after))
    return api_error


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RelayCallError, _relay_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return exc.response()


async def _relay_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RelayCallError)
    return from_relay(exc).response()


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_api_error(exc.errors()).response()


def validation_api_error(errors: Any) -> APIError:
    """FastAPI's 422 becomes an OpenAI 400 naming the first bad parameter."""
    first: dict[str, Any] = next(iter(errors), {})
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
