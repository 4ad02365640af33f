"""A grpc.aio server interceptor counting every RPC by method and status code.

Unary calls also go into a latency histogram. Streaming calls are counted when they
end and their lifetime goes into a separate histogram: a node's Connect stream or a
WatchEvents subscription lasts hours and would drown unary latencies.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

UNARY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
STREAM_BUCKETS = (0.1, 1, 10, 60, 600, 3600, 6 * 3600, 24 * 3600)


class GrpcMetrics:
    """The RPC metrics, with label children cached per (method, code)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "tokenplace_relay_grpc_started",
            "RPCs started, by method (streams are counted here when they open).",
            ("grpc_service", "grpc_method", "grpc_type"),
            registry=registry,
        )
        self.handled = Counter(
            "tokenplace_relay_grpc_handled",
            "RPCs finished, by method and status code.",
            ("grpc_service", "grpc_method", "grpc_type", "grpc_code"),
            registry=registry,
        )
        self.unary_seconds = Histogram(
            "tokenplace_relay_grpc_handling_seconds",
            "Time to answer a unary RPC, by method.",
            ("grpc_service", "grpc_method"),
            buckets=UNARY_BUCKETS,
            registry=registry,
        )
        self.stream_seconds = Histogram(
            "tokenplace_relay_grpc_stream_seconds",
            "How long a streaming RPC stayed open, by method.",
            ("grpc_service", "grpc_method", "grpc_type"),
            buckets=STREAM_BUCKETS,
            registry=registry,
        )
        self._handled: dict[tuple[str, str], Any] = {}
        self._timers: dict[str, Any] = {}
        self._started: dict[str, Any] = {}

    def start(self, method: str, kind: str) -> None:
        child = self._started.get(method)
        if child is None:
            child = self._started[method] = self.started.labels(*_split(method), kind)
        child.inc()

    def finish(self, method: str, kind: str, code: str, seconds: float) -> None:
        key = (method, code)
        counter = self._handled.get(key)
        if counter is None:
            counter = self._handled[key] = self.handled.labels(*_split(method), kind, code)
        counter.inc()
        timer = self._timers.get(method)
        if timer is None:
            if kind == "unary":
                timer = self.unary_seconds.labels(*_split(method))
            else:
                timer = self.stream_seconds.labels(*_split(method), kind)
            self._timers[method] = timer
        timer.observe(seconds)


def _split(method: str) -> tuple[str, str]:
    """'/pkg.Service/Method' -> ('pkg.Service', 'Method')."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service, name


def _kind(handler: grpc.RpcMethodHandler[Any, Any]) -> str:
    if handler.request_streaming and handler.response_streaming:
        return "bidi_stream"
    if handler.request_streaming:
        return "client_stream"
    if handler.response_streaming:
        return "server_stream"
    return "unary"


def _code(context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return "CANCELLED"  # the caller went away
    code = context.code()
    if code is not None:
        return code.name
    return "OK" if error is None else "UNKNOWN"


_FACTORIES = {
    "unary": grpc.unary_unary_rpc_method_handler,
    "server_stream": grpc.unary_stream_rpc_method_handler,
    "client_stream": grpc.stream_unary_rpc_method_handler,
    "bidi_stream": grpc.stream_stream_rpc_method_handler,
}
_ATTRIBUTES = {
    "unary": "unary_unary",
    "server_stream": "unary_stream",
    "client_stream": "stream_unary",
    "bidi_stream": "stream_stream",
}


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: GrpcMetrics) -> None:
        self.metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # unknown method: gRPC answers UNIMPLEMENTED itself
            return handler
        kind = _kind(handler)
        behavior = getattr(handler, _ATTRIBUTES[kind])
        method = handler_call_details.method
        if inspect.isasyncgenfunction(behavior):
            wrapped: Callable[..., Any] = self._wrap_generator(behavior, method, kind)
        elif inspect.iscoroutinefunction(behavior):
            wrapped = self._wrap_coroutine(behavior, method, kind)
        else:  # a synchronous handler (none today): leave it alone rather than guess
            return handler
        return _FACTORIES[kind](
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap_coroutine(
        self, behavior: Callable[..., Awaitable[Any]], method: str, kind: str
    ) -> Callable[..., Awaitable[Any]]:
        metrics = self.metrics

        async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            metrics.start(method, kind)
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                return await behavior(request, context)
            except BaseException as raised:
                error = raised
                raise
            finally:
                metrics.finish(method, kind, _code(context, error), time.perf_counter() - started)

        return observed

    def _wrap_generator(
        self, behavior: Callable[..., AsyncIterator[Any]], method: str, kind: str
    ) -> Callable[..., AsyncIterator[Any]]:
        metrics = self.metrics

        async def observed(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            metrics.start(method, kind)
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                async for response in behavior(request, context):
                    yield response
            except BaseException as raised:
                error = raised
                raise
            finally:
                metrics.finish(method, kind, _code(context, error), time.perf_counter() - started)

        return observed
