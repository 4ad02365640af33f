"""Domain events: each dispatched job ends in exactly one JobFinished, whatever ends it;
nodes join, leave (with a reason), go silent and come back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.relay.dispatcher import Dispatcher, JobOutcome, Sealed
from tokenplace.relay.errors import JobCancelled, JobTimedOut, NodeFailed, NodeLost
from tokenplace.relay.join_token import JoinGate, JoinTokenInvalid
from tokenplace.relay.monitoring.events import (
    EventBus,
    JobDispatched,
    JobFinished,
    JobOutcomeKind,
    NodeJoined,
    NodeLeft,
    NodeOffline,
    NodeOnline,
    Stamped,
)
from tokenplace.relay.polling import PollingNodes, PollingRegistration
from tokenplace.relay.registry import ModelCard, NodeSession, Registry, SealedJob
from tokenplace.relay.slots import SlotPool

STEP = 5.0


class Recorder:
    """What listeners were told; reading it first delivers what the bus holds back."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._events: list[object] = []
        bus.listen(self._on)

    @property
    def events(self) -> list[object]:
        self._bus.flush()
        return self._events

    def _on(self, stamped: Stamped) -> None:
        self._events.append(stamped.event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def session(node_id: str = "node-a", slots: int = 1) -> NodeSession:
    return NodeSession(
        node_id=node_id,
        public_key=f"key-of-{node_id}",
        models={"echo": ModelCard(id="echo", owned_by="t", created=1)},
        slot_pool=SlotPool(slots, max_waiters=4),
        inventory={},
        display_name=node_id,
        peer="ipv4:127.0.0.1:1",
    )


def sealed(request_id: str) -> Sealed:
    return Sealed("client-key", request_id, b"ct", b"ck", b"iv")


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def recorder(bus: EventBus) -> Recorder:
    return Recorder(bus)


async def started_job(
    dispatcher: Dispatcher, node: NodeSession, request_id: str, budget: float = STEP
) -> tuple[asyncio.Task[JobOutcome], SealedJob]:
    task = asyncio.create_task(
        dispatcher.dispatch(node.node_id, "echo", sealed(request_id), budget)
    )
    async with asyncio.timeout(STEP):
        job = await node.outbound.get()
    assert isinstance(job, SealedJob)
    return task, job


async def test_completed_job_reports_tokens_and_duration(bus, recorder) -> None:
    registry = Registry(40.0, bus)
    dispatcher = Dispatcher(registry, 60.0, bus)
    node = session()
    registry.add(node)
    task, job = await started_job(dispatcher, node, "r-1")
    answer = JobOutcome(node.node_id, sealed("r-1"), prompt_tokens=3, completion_tokens=7)
    dispatcher.on_result(node.node_id, job.job_id, answer)
    await task
    [dispatched] = recorder.of(JobDispatched)
    [finished] = recorder.of(JobFinished)
    assert dispatched.job_id == finished.job_id == job.job_id
    assert finished.outcome is JobOutcomeKind.COMPLETED
    assert (finished.prompt_tokens, finished.completion_tokens) == (3, 7)
    assert finished.duration_seconds > 0 and dispatched.queued_for_seconds >= 0


async def test_queued_job_reports_time_waiting_for_a_slot(bus, recorder) -> None:
    registry = Registry(40.0, bus)
    dispatcher = Dispatcher(registry, 60.0, bus)
    node = session(slots=1)
    registry.add(node)
    first, first_job = await started_job(dispatcher, node, "r-1")
    second = asyncio.create_task(dispatcher.dispatch(node.node_id, "echo", sealed("r-2"), STEP))
    await asyncio.sleep(0.05)  # the queued time being measured
    done = JobOutcome(node.node_id, sealed("r-1"), 1, 1)
    dispatcher.on_result(node.node_id, first_job.job_id, done)
    second_job = await node.outbound.get()
    dispatcher.on_result(node.node_id, second_job.job_id, done)
    await asyncio.gather(first, second)
    waited = [e.queued_for_seconds for e in recorder.of(JobDispatched)]
    assert waited[0] < 0.05 <= waited[1]
    assert len(recorder.of(JobFinished)) == 2


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("node_failure", JobOutcomeKind.FAILED),
        ("node_lost", JobOutcomeKind.NODE_LOST),
        ("cancel", JobOutcomeKind.CANCELLED),
        ("caller_gone", JobOutcomeKind.CANCELLED),
        ("deadline", JobOutcomeKind.DEADLINE_EXCEEDED),
    ],
)
async def test_every_ending_publishes_one_job_finished(
    bus, recorder, end: str, expected: JobOutcomeKind
) -> None:
    registry = Registry(40.0, bus)
    dispatcher = Dispatcher(registry, 60.0, bus)
    node = session()
    registry.add(node)
    task, job = await started_job(dispatcher, node, "r-1", budget=0.2 if end == "deadline" else 5)
    if end == "node_failure":
        dispatcher.on_result(node.node_id, job.job_id, NodeFailed("engine error"))
    elif end == "node_lost":
        registry.remove(node)
        dispatcher.on_node_lost(node)
    elif end == "cancel":
        assert dispatcher.cancel("client-key", "r-1")
    elif end == "caller_gone":
        task.cancel()
    with pytest.raises((NodeFailed, NodeLost, JobCancelled, JobTimedOut, asyncio.CancelledError)):
        await task
    if end in ("cancel", "caller_gone", "deadline"):
        # The relay told the node to stop; the job ends when the node says so, not before.
        assert recorder.of(JobFinished) == []
        dispatcher.on_result(node.node_id, job.job_id, JobCancelled("stopped"))
        dispatcher.on_result(node.node_id, job.job_id, JobCancelled("said twice"))
    dispatcher.on_node_lost(node)  # a late loss after the end changes nothing
    [finished] = recorder.of(JobFinished)
    assert finished.outcome is expected and finished.job_id == job.job_id
    assert dispatcher.jobs() == []


async def test_join_leave_and_supersede(bus, recorder) -> None:
    registry = Registry(40.0, bus)
    first, second = session(), session()
    registry.add(first)
    assert registry.add(second) is first
    assert not registry.remove(first)  # the old stream ending is not a second departure
    registry.remove(second, "drained")
    kinds = [(type(e).__name__, getattr(e, "reason", None)) for e in recorder.events]
    assert kinds == [
        ("NodeJoined", None),
        ("NodeLeft", "superseded"),
        ("NodeJoined", None),
        ("NodeLeft", "drained"),
    ]
    joined = recorder.of(NodeJoined)[0]
    assert (joined.models, joined.slots, joined.transport) == (("echo",), 1, "stream")


async def test_silent_node_goes_offline_on_time_and_comes_back(bus, recorder) -> None:
    window = 0.2
    registry = Registry(window, bus)
    node = session()
    added = time.monotonic()
    registry.add(node)
    async with asyncio.timeout(STEP):
        await registry.wait_until(lambda: bool(recorder.of(NodeOffline)))
    elapsed = time.monotonic() - added
    assert window < elapsed < window + 0.15
    assert registry.online() == [] and node.silent
    node.touch()
    assert registry.online() == [node]
    assert [e.node_id for e in recorder.of(NodeOnline)] == ["node-a"]
    registry.remove(node)
    assert [type(e) for e in recorder.events][-1] is NodeLeft


async def test_heard_from_nodes_never_go_offline(bus, recorder) -> None:
    registry = Registry(0.2, bus)
    node = session()
    registry.add(node)
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:  # a node that keeps talking, like heartbeats
        node.touch()
        await asyncio.sleep(0.05)
    assert recorder.of(NodeOffline) == []
    registry.remove(node)


async def test_polling_nodes_join_and_their_lapsed_lease_is_a_departure(bus, recorder) -> None:
    registry = Registry(40.0, bus)
    polling = PollingNodes(registry, Dispatcher(registry, 60.0, bus), 0, 4, JoinGate("the-token"))
    registration = PollingRegistration(
        public_key=public_key_b64(generate_private_key()),
        models=[ModelCard(id="echo", owned_by="t", created=1)],
        slots=2,
        inventory={},
        display_name="http-node",
        peer="ipv4:127.0.0.1:2",
        join_token="the-token",
    )
    with pytest.raises(JoinTokenInvalid):
        polling.register(replace(registration, join_token="wrong"), "")
    assert recorder.events == []
    node, _ = polling.register(registration, "")
    assert polling.expire() == [node]  # a zero-second lease has lapsed already
    joined, left = recorder.events
    assert isinstance(joined, NodeJoined) and joined.transport == "polling"
    assert isinstance(left, NodeLeft) and left.reason == "lease_expired"


async def test_events_reach_listeners_after_the_publisher_in_order_and_stamped() -> None:
    """Jobs publish on the request's path: delivery waits a loop turn, nothing reorders."""
    bus = EventBus()
    heard: list[Stamped] = []
    bus.listen(heard.append)
    before = time.time()
    bus.publish(NodeLeft("node-a", "drained"))
    bus.publish(NodeOffline("node-b", 1.0))
    assert heard == []  # the publisher's own work goes first
    delivered = asyncio.get_running_loop().create_future()
    bus.listen(lambda stamped: delivered.done() or delivered.set_result(None))
    bus.publish(NodeOnline("node-c"))
    async with asyncio.timeout(STEP):
        await delivered
    assert [type(s.event) for s in heard] == [NodeLeft, NodeOffline, NodeOnline]
    assert all(before <= s.time <= time.time() for s in heard)
