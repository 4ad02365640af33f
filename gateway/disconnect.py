"""Cancel work when the HTTP client goes away, so the node stops generating."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

T = TypeVar("T")


async def cancel_on_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await `work`; if the client disconnects first, cancel it (and the gRPC call under it).

    `work` runs in the request's own task and one watcher task waits for the disconnect,
    rather than a task each under `asyncio.wait`: this is on every request's path.
    """
    request_task = asyncio.current_task()
    assert request_task is not None, "called outside a task"
    watcher = asyncio.create_task(_cancel_when_gone(request, request_task))
    try:
        return await work
    finally:
        # No await between `work` finishing and here, so the watcher cannot cancel late.
        watcher.cancel()


async def _cancel_when_gone(request: Request, request_task: asyncio.Task[object]) -> None:
    # The body was read already, so the next ASGI message is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        continue
    request_task.cancel()
