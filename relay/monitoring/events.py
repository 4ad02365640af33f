"""What happens on the network, as events for monitoring: never content, only ids,
counts and timings.

Domain code publishes to one `EventBus` per relay; the MonitoringService stream, the
Prometheus metrics and the node directory subscribe. Publishing never blocks: a
subscriber whose queue is full loses the event (and the bus counts the loss), so a
slow dashboard can never hold up dispatch.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class JobOutcomeKind(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NODE_LOST = "node_lost"
    DEADLINE_EXCEEDED = "deadline_exceeded"


@dataclass(frozen=True, slots=True)
class NodeJoined:
    node_id: str
    display_name: str
    models: tuple[str, ...]
    slots: int
    transport: str


@dataclass(frozen=True, slots=True)
class NodeLeft:
    node_id: str
    # "disconnected", "superseded", "removed", "lease_expired", "drained"
    reason: str


@dataclass(frozen=True, slots=True)
class NodeOffline:
    """Still connected, but not heard from within the online window."""

    node_id: str
    silent_for_seconds: float


@dataclass(frozen=True, slots=True)
class NodeOnline:
    """A node that had gone silent was heard from again."""

    node_id: str


@dataclass(frozen=True, slots=True)
class JobDispatched:
    job_id: str
    node_id: str
    model: str
    queued_for_seconds: float


@dataclass(frozen=True, slots=True)
class JobFinished:
    job_id: str
    node_id: str
    model: str
    outcome: JobOutcomeKind
    duration_seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The caller's routing id (never content), for logs that tie a job to its request.
    request_id: str = ""


Event = NodeJoined | NodeLeft | NodeOffline | NodeOnline | JobDispatched | JobFinished


@dataclass(frozen=True, slots=True)
class Stamped:
    """An event with the wall-clock time it was published."""

    event: Event
    time: float = field(default_factory=time.time)


Listener = Callable[[Stamped], None]


class EventBus:
    """Fan-out of events to synchronous listeners and bounded async subscriptions."""

    def __init__(self, subscriber_queue_size: int = 1024) -> None:
        self._listeners: list[Listener] = []
        self._queues: set[asyncio.Queue[Stamped]] = set()
        self._queue_size = subscriber_queue_size
        self._pending: list[Stamped] = []
        self.dropped = 0

    def listen(self, listener: Listener) -> None:
        """Call `listener` synchronously for every event (metrics, directories).

        Listeners must be quick and must not raise.
        """
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        """Stamp `event` now; deliver it on the next event-loop turn.

        Jobs publish on the request's path (dispatched, finished): delivering later
        lets the job or its answer go out first. Order is kept. Outside a running
        loop, delivery is immediate.
        """
        stamped = Stamped(event)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._deliver(stamped)
            return
        if not self._pending:
            loop.call_soon(self.flush)
        self._pending.append(stamped)

    def flush(self) -> None:
        """Deliver every pending event now (tests; shutdown)."""
        pending, self._pending = self._pending, []
        for stamped in pending:
            self._deliver(stamped)

    def _deliver(self, stamped: Stamped) -> None:
        for listener in self._listeners:
            listener(stamped)
        for queue in self._queues:
            try:
                queue.put_nowait(stamped)
            except asyncio.QueueFull:
                self.dropped += 1

    def subscribe(self) -> Subscription:
        """A queue of every event from now on; use as a context manager."""
        return Subscription(self)

    def _attach(self) -> asyncio.Queue[Stamped]:
        queue: asyncio.Queue[Stamped] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        return queue

    def _detach(self, queue: asyncio.Queue[Stamped]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


class Subscription:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Stamped] | None = None

    def __enter__(self) -> Subscription:
        self._queue = self._bus._attach()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._queue is not None:
            self._bus._detach(self._queue)

    async def next(self) -> Stamped:
        assert self._queue is not None, "use the subscription as a context manager"
        return await self._queue.get()
