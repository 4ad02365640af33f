"""Calling the relay: the channel every client shares, and one unary call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from tokenplace.client.errors import from_rpc_error
from tokenplace.client.metadata import Metadata

T = TypeVar("T")
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def open_channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        address,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )


async def call(
    rpc: Callable[..., Awaitable[T]],
    request: Any,
    *,
    timeout_seconds: float,
    metadata: Metadata = (),
) -> T:
    """Invoke a unary relay RPC; a failed call raises RelayCallError."""
    try:
        return await rpc(request, timeout=timeout_seconds, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error) from None
