"""Turns relay domain errors into rich gRPC statuses (google.rpc.ErrorInfo)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tokenplace.relay.errors import ERROR_DOMAIN, RelayError

T = TypeVar("T")


def to_grpc_status(error: RelayError) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        )
    )
    status = status_pb2.Status(
        code=error.status_code.value[0], message=error.message, details=[detail]
    )
    return rpc_status.to_status(status)


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
