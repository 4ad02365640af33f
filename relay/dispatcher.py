"""Dispatch: hands sealed jobs to nodes and routes their sealed results back.

The relay never sees plaintext: a job is routing metadata plus ciphertext,
kept only until it has been written to the node's stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field, replace

from tokenplace.relay.errors import (
    InvalidArgument,
    JobCancelled,
    JobTimedOut,
    ModelNotFound,
    NodeLost,
    RelayError,
)
from tokenplace.relay.monitoring.events import EventBus, JobDispatched, JobFinished, JobOutcomeKind
from tokenplace.relay.registry import CancelOrder, NodeSession, Registry, SealedJob
from tokenplace.relay.watch import ChangeSignal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sealed:
    """An E2EE envelope as the relay handles it: routing ids and ciphertext."""

    client_public_key: str
    request_id: str
    ciphertext: bytes
    cipherkey: bytes
    iv: bytes


@dataclass(frozen=True, slots=True)
class JobOutcome:
    node_id: str
    response: Sealed
    prompt_tokens: int
    completion_tokens: int


@dataclass(eq=False)
class JobRecord:
    job_id: str
    node: NodeSession
    model: str
    client_public_key: str
    request_id: str
    started: float = field(default_factory=time.monotonic)
    accepted: bool = False
    abandoned: bool = False
    result: asyncio.Future[JobOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Dispatcher:
    """Every job sent to a node publishes one JobDispatched and, whatever ends it
    (answer, node failure, node lost, cancel, deadline), exactly one JobFinished."""

    def __init__(
        self, registry: Registry, default_timeout_seconds: float, events: EventBus | None = None
    ) -> None:
        self.registry = registry
        self.default_timeout_seconds = default_timeout_seconds
        self.events = events or registry.events
        self._jobs: dict[str, JobRecord] = {}
        self._by_request: dict[tuple[str, str], str] = {}
        # Requests waiting for a slot, by routing ids; resolving one cancels the wait.
        self._queued: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.changes = ChangeSignal()

    async def wait_idle(self) -> None:
        """Return once no job is in flight."""
        await self._idle.wait()

    def jobs(self) -> list[JobRecord]:
        return list(self._jobs.values())

    async def dispatch(
        self,
        node_id: str,
        model: str,
        sealed: Sealed,
        timeout_seconds: float | None,
        report_start: bool = False,
    ) -> JobOutcome:
        """Run one sealed job on `node_id`, waiting at most `timeout_seconds`.

        `report_start` asks the node to say when it starts the job (`JobRecord.accepted`).
        """
        _check_routing(sealed)
        node = self.registry.get(node_id)
        if model and model not in node.models:
            raise ModelNotFound(f"compute node {node_id} does not serve {model!r}")
        budget = self.default_timeout_seconds if timeout_seconds is None else timeout_seconds
        queued_since = time.monotonic()
        deadline = queued_since + budget
        await self._acquire_slot(node, (sealed.client_public_key, sealed.request_id), budget)
        queued_for = time.monotonic() - queued_since
        job = self._start(node, model, sealed, deadline, queued_for, report_start)
        # A timer that settles the job itself, rather than wait_for(shield(...)): this is
        # on every request's path, and each wrapper future costs event-loop turns.
        timer = asyncio.get_running_loop().call_later(
            max(deadline - time.monotonic(), 0), self._expire, job, budget
        )
        try:
            return await job.result
        except asyncio.CancelledError:
            # Cancelling this task cancelled job.result too: the outcome is CANCELLED.
            self._abandon(job, JobCancelled("the caller stopped waiting"))
            raise
        finally:
            timer.cancel()

    async def _acquire_slot(self, node: NodeSession, key: tuple[str, str], budget: float) -> None:
        """Wait for a slot on `node`, unless the request is cancelled or time runs out."""
        if node.slot_pool.try_acquire():
            return
        cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued[key] = cancelled
        acquire = asyncio.ensure_future(node.slot_pool.acquire())
        try:
            done, _ = await asyncio.wait(
                {acquire, cancelled}, timeout=budget, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if self._queued.get(key) is cancelled:
                del self._queued[key]
            if not acquire.done():
                acquire.cancel()  # SlotPool gives back a slot handed over meanwhile
        if acquire in done:
            acquire.result()  # raises NodeLost / QueueFull
            if cancelled.done():
                node.slot_pool.release()
                raise JobCancelled("the request was cancelled")
            return
        if cancelled in done:
            raise JobCancelled("the request was cancelled while it waited for a slot")
        raise JobTimedOut("timed out waiting for a free slot on the compute node")

    def _start(
        self,
        node: NodeSession,
        model: str,
        sealed: Sealed,
        deadline: float,
        queued_for: float,
        report_start: bool,
    ) -> JobRecord:
        job = JobRecord(
            job_id=uuid.uuid4().hex,
            node=node,
            model=model,
            client_public_key=sealed.client_public_key,
            request_id=sealed.request_id,
        )
        self._jobs[job.job_id] = job
        self.registry.mark_dispatched(node)
        self._idle.clear()
        self.changes.notify()
        self._by_request[(sealed.client_public_key, sealed.request_id)] = job.job_id
        node.send(
            SealedJob(
                job_id=job.job_id,
                model=model,
                client_public_key=sealed.client_public_key,
                request_id=sealed.request_id,
                ciphertext=sealed.ciphertext,
                cipherkey=sealed.cipherkey,
                iv=sealed.iv,
                deadline_unix=time.time() + (deadline - time.monotonic()),
                report_start=report_start,
            )
        )
        log.info("job dispatched", extra={"job_id": job.job_id, "node_id": node.node_id})
        self.events.publish(JobDispatched(job.job_id, node.node_id, model, queued_for))
        return job

    def _expire(self, job: JobRecord, budget: float) -> None:
        self._abandon(job, JobTimedOut(f"the compute node did not answer within {budget:.0f} s"))

    def _abandon(self, job: JobRecord, why: RelayError) -> None:
        """The caller stopped waiting: tell the node to stop; its slot frees when it reports.

        `why` settles the job's outcome now, so a late answer cannot count as completed.
        """
        if job.job_id not in self._jobs or job.abandoned:
            return
        if not job.result.done():
            job.result.set_exception(why)
            job.result.exception()  # retrieved: nobody awaits an abandoned job
        job.abandoned = True
        job.node.send(CancelOrder(job.job_id))
        log.info("job cancelled", extra={"job_id": job.job_id, "node_id": job.node.node_id})

    def cancel(self, client_public_key: str, request_id: str) -> bool:
        queued = self._queued.get((client_public_key, request_id))
        if queued is not None and not queued.done():
            queued.set_result(None)
            return True
        job_id = self._by_request.get((client_public_key, request_id))
        job = self._jobs.get(job_id) if job_id else None
        if job is None:
            return False
        self._abandon(job, JobCancelled("the request was cancelled"))
        return True

    def job_for(self, client_public_key: str, request_id: str) -> JobRecord | None:
        """The started job for these routing ids, if any."""
        job_id = self._by_request.get((client_public_key, request_id))
        return self._jobs.get(job_id) if job_id else None

    def on_accepted(self, node_id: str, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.node.node_id == node_id:
            job.accepted = True
            self.changes.notify()

    def on_result(self, node_id: str, job_id: str, outcome: JobOutcome | RelayError) -> None:
        """Only the node the job was sent to may deliver its result."""
        job = self._jobs.get(job_id)
        if job is None or job.node.node_id != node_id:
            log.warning("result for unknown job ignored", extra={"node_id": node_id})
            return
        if not job.result.done():
            if isinstance(outcome, RelayError):
                job.result.set_exception(outcome)
            else:
                routed = replace(
                    outcome.response,
                    client_public_key=job.client_public_key,
                    request_id=job.request_id,
                )
                job.result.set_result(replace(outcome, response=routed))
        job.node.slot_pool.release()
        self._finish(job)

    def on_node_lost(self, node: NodeSession) -> None:
        """Fail every job of a vanished node at once with a retryable error."""
        for job in [j for j in self._jobs.values() if j.node is node]:
            if not job.result.done():
                job.result.set_exception(NodeLost(f"compute node {node.node_id} disconnected"))
            self._finish(job)

    def _finish(self, job: JobRecord) -> None:
        if self._jobs.pop(job.job_id, None) is None:
            return
        if not self._jobs:
            self._idle.set()
        self.changes.notify()
        key = (job.client_public_key, job.request_id)
        if self._by_request.get(key) == job.job_id:
            del self._by_request[key]
        if job.result.done() and not job.result.cancelled():
            job.result.exception()  # mark retrieved: an abandoned job's error is expected
        self._publish_finished(job)

    def _publish_finished(self, job: JobRecord) -> None:
        kind, usage = _outcome_of(job.result)
        finished = JobFinished(
            job_id=job.job_id,
            node_id=job.node.node_id,
            model=job.model,
            outcome=kind,
            duration_seconds=time.monotonic() - job.started,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            request_id=job.request_id,
        )
        self.events.publish(finished)


_ERROR_OUTCOMES: tuple[tuple[type[RelayError], JobOutcomeKind], ...] = (
    (JobCancelled, JobOutcomeKind.CANCELLED),
    (JobTimedOut, JobOutcomeKind.DEADLINE_EXCEEDED),
    (NodeLost, JobOutcomeKind.NODE_LOST),
)


def _outcome_of(result: asyncio.Future[JobOutcome]) -> tuple[JobOutcomeKind, JobOutcome | None]:
    """How a finished job ended, and its usage if the node answered."""
    if not result.done() or result.cancelled():
        return JobOutcomeKind.CANCELLED, None
    error = result.exception()
    if error is None:
        return JobOutcomeKind.COMPLETED, result.result()
    for error_type, kind in _ERROR_OUTCOMES:
        if isinstance(error, error_type):
            return kind, None
    return JobOutcomeKind.FAILED, None


def _check_routing(sealed: Sealed) -> None:
    if not sealed.client_public_key or not sealed.request_id:
        raise InvalidArgument("an envelope needs client_public_key and request_id")
    if not sealed.ciphertext or not sealed.cipherkey or not sealed.iv:
        raise InvalidArgument("an envelope needs ciphertext, cipherkey and iv")
