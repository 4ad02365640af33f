"""A change signal that tests and monitoring can await instead of polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ChangeSignal:
    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._pending: set[asyncio.Task[None]] = set()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checked after every notify()."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    def notify(self) -> None:
        """Wake waiters; safe to call from synchronous code on the loop."""
        task = asyncio.get_running_loop().create_task(self._notify_all())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _notify_all(self) -> None:
        async with self._changed:
            self._changed.notify_all()
