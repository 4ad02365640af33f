"""The node agent: keeps one NodeService.Connect stream to the relay and serves jobs.

Re-dials with exponential backoff and jitter whenever the stream ends, except
when the relay refuses the node's credentials, which retrying cannot fix, and
after `stop()`, which ends the stream gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, TypeVar

import grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.common.timestamps import to_unix
from tokenplace.e2ee import Envelope, public_key_b64, sign_nonce
from tokenplace.node.backoff import Backoff
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.base import Engine
from tokenplace.node.inventory import machine_inventory
from tokenplace.node.jobs import Failure, JobReply, JobRunner, JobTicket
from tokenplace.v1 import common_pb2, node_pb2, node_pb2_grpc

log = logging.getLogger(__name__)
# The node's end of NodeService.Connect.
ConnectCall = grpc.aio.StreamStreamCall[node_pb2.ConnectRequest, node_pb2.ConnectResponse]
T = TypeVar("T")
# After a stop: how long to wait for the relay to close its side of the stream, and
# for cancelled generations to return (they stop between tokens) before the engine closes.
CLOSE_WAIT_SECONDS = 1.0

_FAILURE_PB = {
    Failure.BAD_ENVELOPE: node_pb2.FAILURE_REASON_BAD_ENVELOPE,
    Failure.UNKNOWN_MODEL: node_pb2.FAILURE_REASON_UNKNOWN_MODEL,
    Failure.ENGINE_ERROR: node_pb2.FAILURE_REASON_ENGINE_ERROR,
    Failure.CANCELLED: node_pb2.FAILURE_REASON_CANCELLED,
    Failure.BUSY: node_pb2.FAILURE_REASON_BUSY,
}
# Statuses that mean "your credentials or request are wrong": retrying won't help.
FATAL_CODES = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
}


class RegistrationRejected(Exception):
    """The relay refused this node; the message says what to fix."""


class NodeAgent:
    def __init__(self, settings: NodeSettings, engine: Engine, private_key: rsa.RSAPrivateKey):
        self.settings = settings
        self.engine = engine
        self.private_key = private_key
        self.public_key = public_key_b64(private_key)
        self.runner = JobRunner(engine, private_key)
        self.node_id: str | None = None
        self.registered = asyncio.Event()
        self._executor = ThreadPoolExecutor(engine.slots, thread_name_prefix="generate")
        self._running: dict[str, threading.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    @property
    def active_jobs(self) -> int:
        return len(self._running)

    def stop(self) -> None:
        """Make `run()` return gracefully: refuse new jobs, give running ones
        `settings.stop_grace_seconds` to finish, then close the stream. The relay
        fails jobs still running then with a retryable status, as for any node
        whose stream ends, so callers are re-dispatched rather than left waiting."""
        self._stopping.set()

    async def run(self) -> None:
        """Serve until `stop()` (or cancellation); raises RegistrationRejected on a
        fatal refusal."""
        backoff = Backoff(self.settings.reconnect_base_seconds, self.settings.reconnect_max_seconds)
        try:
            while not self._stopping.is_set():
                try:
                    await self._session(backoff)
                except grpc.aio.AioRpcError as error:
                    if error.code() in FATAL_CODES:
                        raise RegistrationRejected(error.details() or error.code().name) from error
                    if not self._stopping.is_set():
                        log.warning("relay stream ended: %s %s", error.code().name, error.details())
                self.registered.clear()
                if self._stopping.is_set():
                    break
                delay = backoff.next_delay()
                log.info("reconnecting to relay in %.1f s", delay)
                await self._unless_stopping(asyncio.sleep(delay))
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _session(self, backoff: Backoff) -> None:
        options = [("grpc.keepalive_time_ms", 20_000), ("grpc.keepalive_timeout_ms", 10_000)]
        async with grpc.aio.insecure_channel(self.settings.relay, options=options) as channel:
            call = node_pb2_grpc.NodeServiceStub(channel).Connect()
            outbound: asyncio.Queue[node_pb2.ConnectRequest] = asyncio.Queue()
            interval = await self._unless_stopping(self._register(call))
            if interval is None:
                return  # stopped before the relay registered us: nothing to hand back
            backoff.reset()
            self._write_lock = asyncio.Lock()
            helpers = [
                asyncio.create_task(self._write(call, outbound)),
                asyncio.create_task(self._heartbeat(outbound, interval)),
            ]
            receiving = asyncio.create_task(self._receive(call, outbound))
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if receiving.done():
                    receiving.result()  # the stream's error, or nothing after a drain
                else:
                    await self._close(call, receiving)
            finally:
                for task in (*helpers, receiving, stopping):
                    task.cancel()
                self._cancel_all()

    async def _register(self, call: ConnectCall) -> float:
        first = await _read(call)
        if first is None or first.WhichOneof("payload") != "challenge":
            await _raise_call_error(call, "relay did not send a registration challenge")
        await call.write(node_pb2.ConnectRequest(register=self._register_message(first.challenge)))
        reply = await _read(call)
        if reply is None or reply.WhichOneof("payload") != "registered":
            await _raise_call_error(call, "relay did not confirm registration")
        self.node_id = reply.registered.node_id
        self.registered.set()
        log.info("registered with relay", extra={"node_id": self.node_id})
        relay_interval = reply.registered.heartbeat_interval_seconds or 10
        return self.settings.heartbeat_interval_seconds or float(relay_interval)

    def _register_message(self, challenge: node_pb2.Challenge) -> node_pb2.Register:
        card = self.engine.model
        inventory = machine_inventory(self.engine.name, self.engine.version)
        return node_pb2.Register(
            public_key=self.public_key,
            nonce_signature=sign_nonce(self.private_key, challenge.nonce),
            models=[common_pb2.ModelCard(id=card.id, owned_by=card.owned_by, created=card.created)],
            slots=self.engine.slots,
            inventory=common_pb2.NodeInventory(**inventory),
            display_name=self.settings.display_name,
            instance_token=(
                self.settings.instance_token.get_secret_value()
                if self.settings.instance_token
                else ""
            ),
            join_token=(
                self.settings.join_token.get_secret_value() if self.settings.join_token else ""
            ),
        )

    async def _receive(
        self, call: ConnectCall, outbound: asyncio.Queue[node_pb2.ConnectRequest]
    ) -> None:
        draining = False
        while True:
            message = await _read(call)
            if message is None:
                await _raise_call_error(call, "relay closed the stream")
            kind = message.WhichOneof("payload")
            if kind == "job":
                self._accept(call, message.job, outbound, refuse=draining)
            elif kind == "cancel_job":
                self._cancel(message.cancel_job.job_id)
            elif kind == "drain":
                draining = True
                log.info("relay asked this node to drain")
                await self._wait_running(message.drain.grace_seconds)
                await call.done_writing()
                return

    def _accept(
        self,
        call: ConnectCall,
        job: node_pb2.Job,
        outbound: asyncio.Queue[node_pb2.ConnectRequest],
        refuse: bool,
    ) -> None:
        if refuse or self._stopping.is_set() or len(self._running) >= self.engine.slots:
            reply = JobReply(
                job.job_id, failure=Failure.BUSY, failure_message="node is at capacity"
            )
            outbound.put_nowait(_result_message(reply))
            return
        if job.report_start:
            outbound.put_nowait(
                node_pb2.ConnectRequest(job_accepted=node_pb2.JobAccepted(job_id=job.job_id))
            )
        cancelled = threading.Event()
        self._running[job.job_id] = cancelled
        # Hand the job to a worker thread now, not from a task's first step: that would
        # cost an event-loop turn before generation starts, on every job's path.
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._executor, self.runner.run, _ticket(job), cancelled)
        timer = _deadline_timer(loop, job, cancelled)
        task = asyncio.create_task(self._finish_job(job.job_id, running, timer, call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish_job(
        self,
        job_id: str,
        reply: asyncio.Future[JobReply],
        timer: asyncio.TimerHandle | None,
        call: ConnectCall,
    ) -> None:
        try:
            result = _result_message(await reply)
        finally:
            if timer is not None:
                timer.cancel()
            # The slot is free once generation ends, not once the result's write is
            # acknowledged: the relay frees it on reading the result and may send the
            # next job before that acknowledgement reaches this loop, which must not be
            # refused as busy (a lone node's caller would get a 503).
            cancelled = self._running.pop(job_id, None)
            if reply.cancelled() and cancelled is not None:
                cancelled.set()  # this task was cancelled: stop its generation thread too
        await self._send_result(call, result)

    def _cancel(self, job_id: str) -> None:
        event = self._running.get(job_id)
        if event is not None:
            event.set()

    def _cancel_all(self) -> None:
        for event in self._running.values():
            event.set()

    async def _close(self, call: ConnectCall, receiving: asyncio.Task[None]) -> None:
        """Stop asked while connected. `_receive` keeps reading meanwhile, so jobs that
        still arrive are refused as busy and cancellations still land."""
        grace = self.settings.stop_grace_seconds
        if self._running:
            log.info(
                "stopping: finishing running jobs",
                extra={"jobs": len(self._running), "grace_seconds": grace},
            )
        await self._wait_running(grace)
        with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError, TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT_SECONDS), self._write_lock:
                await call.done_writing()
        self._cancel_all()
        # The relay reads our end of stream, fails what is left and closes its side.
        await asyncio.wait({receiving}, timeout=CLOSE_WAIT_SECONDS)
        if receiving.done() and not receiving.cancelled():
            receiving.exception()  # "relay closed the stream": expected here
        if self._tasks:  # cancelled generations return between two tokens
            await asyncio.wait(set(self._tasks), timeout=CLOSE_WAIT_SECONDS)

    async def _unless_stopping(self, work: Awaitable[T]) -> T | None:
        """`work`'s result, or None (with `work` cancelled) once `stop()` is called."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return None if task.cancelled() else task.result()

    async def _wait_running(self, grace_seconds: float) -> None:
        """Wait for running jobs, `grace_seconds` at most. asyncio.wait, not a timed-out
        gather: that would cancel the jobs' tasks, which then could neither stop their
        generation threads nor send their results."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)

    async def _send_result(self, call: ConnectCall, result: node_pb2.ConnectRequest) -> None:
        """Write a result from the job's own task: handing it to the writer would cost an
        event-loop turn on every job's path. A broken stream ends the session anyway, and
        one we closed (a drain, a stop) no longer takes results: the relay fails those jobs."""
        closed = (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError)
        with contextlib.suppress(*closed):
            async with self._write_lock:
                await call.write(result)

    async def _write(
        self, call: ConnectCall, outbound: asyncio.Queue[node_pb2.ConnectRequest]
    ) -> None:
        """Heartbeats, job starts and refusals: everything but results."""
        while True:
            message = await outbound.get()
            async with self._write_lock:
                await call.write(message)

    async def _heartbeat(
        self, outbound: asyncio.Queue[node_pb2.ConnectRequest], interval: float
    ) -> None:
        while True:
            await asyncio.sleep(interval)
            beat = node_pb2.Heartbeat(active_jobs=self.active_jobs)
            outbound.put_nowait(node_pb2.ConnectRequest(heartbeat=beat))


def _deadline_timer(
    loop: asyncio.AbstractEventLoop, job: node_pb2.Job, cancelled: threading.Event
) -> asyncio.TimerHandle | None:
    """Stops generation (between tokens) once the job's deadline passes."""
    if not job.HasField("deadline"):
        return None
    remaining = to_unix(job.deadline) - time.time()
    return loop.call_later(max(remaining, 0), cancelled.set)


def _ticket(job: node_pb2.Job) -> JobTicket:
    envelope = job.envelope
    return JobTicket(
        job_id=job.job_id,
        model=job.model,
        client_public_key=envelope.client_public_key,
        request_id=envelope.request_id,
        envelope=Envelope(envelope.ciphertext, envelope.cipherkey, envelope.iv),
    )


def _result_message(reply: JobReply) -> node_pb2.ConnectRequest:
    result = node_pb2.JobResult(
        job_id=reply.job_id,
        usage=common_pb2.Usage(
            prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens
        ),
    )
    if reply.sealed is not None:
        result.response.CopyFrom(
            common_pb2.Envelope(
                ciphertext=reply.sealed.ciphertext,
                cipherkey=reply.sealed.cipherkey,
                iv=reply.sealed.iv,
            )
        )
    else:
        failure = reply.failure or Failure.ENGINE_ERROR
        result.failure.CopyFrom(
            node_pb2.JobFailure(reason=_FAILURE_PB[failure], message=reply.failure_message)
        )
    return node_pb2.ConnectRequest(job_result=result)


async def _read(call: ConnectCall) -> node_pb2.ConnectResponse | None:
    """The relay's next message; None once the stream has ended."""
    message = await call.read()
    return message if isinstance(message, node_pb2.ConnectResponse) else None


async def _raise_call_error(call: ConnectCall, fallback: str) -> NoReturn:
    """Surface the relay's status for an ended stream as an AioRpcError."""
    code = await call.code()
    details = await call.details()
    if code is grpc.StatusCode.OK or code is None:
        code, details = grpc.StatusCode.UNAVAILABLE, fallback
    raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)
