"""The caller's end of InferenceService.DispatchStream: Dispatch calls multiplexed
over one long-lived stream to the relay.

A unary gRPC call costs about 1 ms of wall time on loopback here (HTTP/2 stream
set-up and teardown, several completion-queue events); a message on an open stream
costs about 0.2 ms. Every request a gateway serves is one such call, so this is
the larger part of what the network adds to a short request.

Calls are matched to answers by `call_id`. A caller that stops waiting (client
disconnect, its own timeout) sends a cancel, which cancels the job on the node. If
the stream breaks (relay restart), every call in flight fails as a failed unary call
would (UNAVAILABLE) and the next call opens a new stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import grpc
from google.rpc import status_pb2

from tokenplace.client.errors import RelayCallError, from_rpc_error, from_status
from tokenplace.client.metadata import Metadata
from tokenplace.common.timestamps import to_duration
from tokenplace.v1 import inference_pb2, inference_pb2_grpc

# The relay enforces each call's timeout and answers DEADLINE_EXCEEDED itself; the
# caller waits this much longer before giving up on a relay that went silent.
SILENT_RELAY_GRACE_SECONDS = 2.0
Answer = asyncio.Future[inference_pb2.DispatchStreamResponse]


class DispatchStream:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = inference_pb2_grpc.InferenceServiceStub(channel)
        self._call: grpc.aio.StreamStreamCall | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, Answer] = {}
        self._ids = itertools.count(1)
        self._write_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    async def dispatch(
        self,
        request: inference_pb2.DispatchRequest,
        timeout_seconds: float,
        metadata: Metadata = (),
    ) -> inference_pb2.DispatchResponse:
        """One Dispatch over the stream; raises RelayCallError exactly as a unary call would."""
        call_id = next(self._ids)
        answer: Answer = asyncio.get_running_loop().create_future()
        self._pending[call_id] = answer
        try:
            call = self._open()
            await self._send(call, _dispatch_message(call_id, request, timeout_seconds, metadata))
            async with asyncio.timeout(timeout_seconds + SILENT_RELAY_GRACE_SECONDS):
                reply = await answer
        except asyncio.CancelledError:
            self._cancel_later(call_id)
            raise
        except TimeoutError:
            self._cancel_later(call_id)
            raise RelayCallError(
                grpc.StatusCode.DEADLINE_EXCEEDED, "the relay did not answer in time"
            ) from None
        finally:
            self._pending.pop(call_id, None)
        if reply.WhichOneof("outcome") == "error":
            error = reply.error
            status = status_pb2.Status(code=error.code, message=error.message)
            status.details.extend(error.details)
            raise from_status(status)
        return reply.response

    async def close(self) -> None:
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def _open(self) -> grpc.aio.StreamStreamCall:
        if self._call is None or self._call.done():
            self._call = self._stub.DispatchStream()
            self._reader = asyncio.create_task(self._read(self._call))
        return self._call

    async def _send(
        self, call: grpc.aio.StreamStreamCall, message: inference_pb2.DispatchStreamRequest
    ) -> None:
        try:
            async with self._write_lock:
                await call.write(message)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        unavailable = grpc.StatusCode.UNAVAILABLE
        try:
            async for reply in call:
                answer = self._pending.get(reply.call_id)
                if answer is not None and not answer.done():
                    answer.set_result(reply)
            failure = RelayCallError(unavailable, "the relay closed the dispatch stream; try again")
        except grpc.aio.AioRpcError as error:
            failure = from_rpc_error(error)
        except asyncio.CancelledError:
            failure = RelayCallError(unavailable, "the dispatch stream is closing")
        self._fail_pending(failure)

    def _fail_pending(self, failure: Exception) -> None:
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(failure)

    def _cancel_later(self, call_id: int) -> None:
        """Best effort: tell the relay to cancel the call (and its job)."""
        call = self._call
        if call is None or call.done():
            return
        message = inference_pb2.DispatchStreamRequest(
            call_id=call_id, cancel=inference_pb2.StreamedCancel()
        )
        task = asyncio.get_running_loop().create_task(self._send_quietly(call, message))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_quietly(
        self, call: grpc.aio.StreamStreamCall, message: inference_pb2.DispatchStreamRequest
    ) -> None:
        with contextlib.suppress(RelayCallError):
            await self._send(call, message)


def _dispatch_message(
    call_id: int,
    request: inference_pb2.DispatchRequest,
    timeout_seconds: float,
    metadata: Metadata,
) -> inference_pb2.DispatchStreamRequest:
    entries = [inference_pb2.MetadataEntry(key=k, value=v) for k, v in metadata]
    streamed = inference_pb2.StreamedDispatch(
        request=request, timeout=to_duration(timeout_seconds), metadata=entries
    )
    return inference_pb2.DispatchStreamRequest(call_id=call_id, dispatch=streamed)
