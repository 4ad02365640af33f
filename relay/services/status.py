"""Turns relay domain errors into rich gRPC statuses (ErrorInfo, RetryInfo)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.rpc import status_pb2
from grpc_status import rpc_status

from tokenplace.client.errors import rich_status
from tokenplace.relay.errors import RelayError

T = TypeVar("T")


def status_of(error: RelayError) -> status_pb2.Status:
    return rich_status(error.status_code, error.message, error.reason, error.retry_after)


def to_grpc_status(error: RelayError) -> grpc.Status:
    return rpc_status.to_status(status_of(error))


def translate_errors(
    method: Callable[..., Awaitable[T]],
) -> Callable[..., Awaitable[T]]:
    """Decorator for unary servicer methods: RelayError -> aborted RPC with ErrorInfo."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            return await method(self, request, context)
        except RelayError as error:
            await context.abort_with_status(to_grpc_status(error))
            raise AssertionError("unreachable") from error

    return wrapper
