"""InferenceService.DispatchStream: many Dispatch calls over one gateway stream.

Each `dispatch` message runs as its own task with the same domain code as a unary
Dispatch, under the call's own timeout; answers go back in completion order through
one writer. A `cancel` message (or the stream ending) cancels the call's task, which
cancels its job on the node exactly as a cancelled unary call does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import grpc
from google.rpc import status_pb2

from tokenplace.client.metadata import ReceivedMetadata
from tokenplace.common.timestamps import to_seconds
from tokenplace.relay.errors import JobTimedOut, QueueFull, RelayError
from tokenplace.relay.services.status import status_of
from tokenplace.v1 import inference_pb2

log = logging.getLogger(__name__)

DispatchFn = Callable[
    [inference_pb2.DispatchRequest, ReceivedMetadata | None, float | None],
    Awaitable[inference_pb2.DispatchResponse],
]
# Calls one stream may have in flight; beyond this the call is refused (the gateway
# opens no more than its own concurrency anyway).
MAX_CALLS_IN_FLIGHT = 4096


class DispatchStreamSession:
    def __init__(self, dispatch: DispatchFn) -> None:
        self._dispatch = dispatch
        self._calls: dict[int, asyncio.Task[None]] = {}
        self._outbound: asyncio.Queue[inference_pb2.DispatchStreamResponse] = asyncio.Queue()
        self._write_lock = asyncio.Lock()

    async def serve(self, context: grpc.aio.ServicerContext) -> None:
        writer = asyncio.create_task(self._write(context))
        try:
            await self._read(context)
        finally:
            for task in self._calls.values():
                task.cancel()
            writer.cancel()

    async def _read(self, context: grpc.aio.ServicerContext) -> None:
        while True:
            message = await context.read()
            if message is grpc.aio.EOF:
                return
            action = message.WhichOneof("action")
            if action == "dispatch":
                self._start(context, message.call_id, message.dispatch)
            elif action == "cancel":
                task = self._calls.get(message.call_id)
                if task is not None:
                    task.cancel()

    def _start(
        self,
        context: grpc.aio.ServicerContext,
        call_id: int,
        streamed: inference_pb2.StreamedDispatch,
    ) -> None:
        if call_id in self._calls or len(self._calls) >= MAX_CALLS_IN_FLIGHT:
            reason = "call id in use" if call_id in self._calls else "too many calls in flight"
            self._reply_error(call_id, status_of(QueueFull(reason)))
            return
        task = asyncio.create_task(self._run(context, call_id, streamed))
        self._calls[call_id] = task
        task.add_done_callback(lambda _: self._calls.pop(call_id, None))

    async def _run(
        self,
        context: grpc.aio.ServicerContext,
        call_id: int,
        streamed: inference_pb2.StreamedDispatch,
    ) -> None:
        timeout = to_seconds(streamed.timeout) if streamed.HasField("timeout") else None
        metadata = [(entry.key, entry.value) for entry in streamed.metadata]
        try:
            async with asyncio.timeout(timeout):
                reply = await self._dispatch(streamed.request, metadata, timeout)
        except RelayError as error:
            self._reply_error(call_id, status_of(error))
        except TimeoutError:
            timed_out = JobTimedOut("the call's timeout passed")
            self._reply_error(call_id, status_of(timed_out))
        except asyncio.CancelledError:
            return  # the caller cancelled it, or the stream ended: nobody is waiting
        except Exception as error:  # one call must not end the stream
            log.error("dispatch failed: %s", type(error).__name__, extra={"call_id": call_id})
            self._reply_error(call_id, status_of(RelayError("internal relay error")))
        else:
            # Answered: a cancel arriving now must not interrupt the write below.
            self._calls.pop(call_id, None)
            answer = inference_pb2.DispatchStreamResponse(call_id=call_id, response=reply)
            await self._answer(context, answer)

    def _reply_error(self, call_id: int, status: status_pb2.Status) -> None:
        """Fail one call as a unary call fails: the same status, details and all."""
        error = inference_pb2.CallError(
            code=status.code, message=status.message, details=status.details
        )
        self._outbound.put_nowait(
            inference_pb2.DispatchStreamResponse(call_id=call_id, error=error)
        )

    async def _answer(
        self, context: grpc.aio.ServicerContext, answer: inference_pb2.DispatchStreamResponse
    ) -> None:
        """Write a successful answer from the call's own task: no hand-off to the writer,
        which would cost an event-loop turn on every request's path."""
        try:
            async with self._write_lock:
                await context.write(answer)
        except Exception as error:  # the stream broke: the gateway fails the call itself
            log.info("dispatch answer not written: %s", type(error).__name__)

    async def _write(self, context: grpc.aio.ServicerContext) -> None:
        """Errors go through this one writer (they are sent from the reader, which must
        not wait on a write)."""
        while True:
            message = await self._outbound.get()
            async with self._write_lock:
                await context.write(message)
