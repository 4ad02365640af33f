"""Request metrics, request ids and one log line per request, as a pure ASGI middleware.

Labels use the matched route's template (`/api/v1/models/{model_id}`), never the raw
path: raw paths would explode the series count and can carry ids. The log line has
ids, the route, the status and the duration; never a body, a query string or a header
value other than the request id.
"""

from __future__ import annotations

import logging
import os
import re
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenplace.gateway.request_stats import RequestStats

log = logging.getLogger("tokenplace.gateway.requests")

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300
)  # fmt: skip
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"
REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is echoed back and logged: only short, plain tokens are honoured.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=\-]{1,128}")


class GatewayMetrics:
    """The gateway's metrics in a registry of its own (tests run several gateways)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = RequestStats(LATENCY_BUCKETS)
        self.registry.register(self.requests)

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics, in the Prometheus text exposition format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class ObservedRequests:
    """Pure ASGI middleware: X-Request-ID in and out, metrics, one INFO line per request."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or os.urandom(16).hex()  # uuid4: 7x slower
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (REQUEST_ID_HEADER, request_id.encode())
        status = 500  # if the app raises before answering, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        stats = self.metrics.requests
        stats.in_flight += 1
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            stats.in_flight -= 1
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            route = _route_template(scope)
            stats.observe(method, route, status, seconds)
            if log.isEnabledFor(logging.INFO):
                _log_request(request_id, method, route, status, seconds)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if SANE_REQUEST_ID.fullmatch(text) else None
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's full template, prefixes included.

    FastAPI >= 0.16x resolves included routers lazily: `scope["route"]` is then the
    router's own route without its prefix, and the full template sits in FastAPI's
    effective route context. Older versions copy routes with full paths.
    """
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = _template_of(getattr(effective, "starlette_route", None)) or getattr(
        effective, "path_format", None
    )
    return template or _template_of(scope.get("route")) or UNMATCHED


def _template_of(route: object) -> str | None:
    return getattr(route, "path_format", None) or getattr(route, "path", None)


def _log_request(request_id: str, method: str, route: str, status: int, seconds: float) -> None:
    log.info(
        "request finished",
        extra={
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        },
    )
