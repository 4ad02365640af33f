"""A node's job slots: a bounded counter with a bounded FIFO of waiters."""

from __future__ import annotations

import asyncio
from collections import deque

from tokenplace.relay.errors import QueueFull, RelayError


class SlotPool:
    def __init__(self, slots: int, max_waiters: int) -> None:
        self.slots = slots
        self.max_waiters = max_waiters
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed: RelayError | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    @property
    def free(self) -> int:
        return max(self.slots - self.active, 0)

    def load(self) -> float:
        """Share of capacity in use or queued for; 0.0 is idle."""
        return (self.active + self.waiting) / max(self.slots, 1)

    def try_acquire(self) -> bool:
        """Take a free slot at once if there is one and nobody queues ahead."""
        if self._closed is None and self.active < self.slots and not self._waiters:
            self.active += 1
            return True
        return False

    async def acquire(self) -> None:
        if self._closed is not None:
            raise self._closed
        if self.active < self.slots and not self._waiters:
            self.active += 1
            return
        if self.waiting >= self.max_waiters:
            raise QueueFull("the selected compute node's queue is full; retry shortly")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # the slot was handed over as we were cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the waiter
                return
        self.active = max(self.active - 1, 0)

    def close(self, error: RelayError) -> None:
        """Fail every waiter and refuse new ones (the node is gone)."""
        self._closed = error
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
