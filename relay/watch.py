"""A change signal that tests and monitoring can await instead of polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ChangeSignal:
    """Waiters give a predicate; notify() re-checks them synchronously (no tasks, no locks)."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checked after every notify()."""
        if predicate():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, waiter)
        self._waiters.append(entry)
        try:
            await waiter
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def notify(self) -> None:
        if not self._waiters:
            return
        for predicate, waiter in list(self._waiters):
            if not waiter.done() and predicate():
                waiter.set_result(None)
