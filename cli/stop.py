"""When a tokenplace process should stop: SIGINT, SIGTERM, or its supervisor gone.

Every long-running command (`relay`, `gateway`, `node`, `up`) installs one
StopRequest before it starts anything, so a signal at any moment (a model still
loading, migrations running, a job in flight) asks for a graceful stop instead of
Python's defaults: a KeyboardInterrupt in the middle of something, or death by
SIGTERM with nothing closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable
from typing import TypeVar

from tokenplace.cli.lifeline import watch_lifeline

log = logging.getLogger(__name__)
T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """Raised by `StopRequest.unless_stopped` when the stop came first."""


class StopRequest:
    """Set once, by the first SIGINT or SIGTERM or the lifeline's end; later ones repeat it."""

    def __init__(self) -> None:
        self._requested = asyncio.Event()
        self._repeated = asyncio.Event()
        self.reason = ""

    def install(self, lifeline_fd: int | None = None) -> None:
        """Route SIGINT and SIGTERM here (and the supervisor's lifeline, when given)."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request, sig.name)
        if lifeline_fd is not None:
            watch_lifeline(lifeline_fd, lambda: self.request("supervisor gone"))

    def request(self, reason: str) -> None:
        if self._requested.is_set():
            log.info("asked again to stop", extra={"reason": reason})
            self._repeated.set()
            return
        self.reason = reason
        log.info("stopping", extra={"reason": reason})
        self._requested.set()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    async def wait(self) -> None:
        await self._requested.wait()

    async def wait_repeated(self) -> None:
        """Returns at the second request: a user pressing Ctrl-C again, say."""
        await self._repeated.wait()

    async def unless_stopped(self, work: Awaitable[T]) -> T:
        """`work`'s result, or Stopped (with `work` cancelled) if the stop comes first."""
        task = asyncio.ensure_future(work)
        if self.requested:
            task.cancel()
        else:
            waiter = asyncio.create_task(self._requested.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                if not task.done():
                    task.cancel()
        if task.cancelled() or not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise Stopped(self.reason)
        return task.result()
