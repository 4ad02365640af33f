"""Dispatch behind admission: the one place a job is admitted, run, and accounted for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from tokenplace.relay.accounts.admission import Admission, CallerInfo, Ticket
from tokenplace.relay.dispatcher import Dispatcher, JobOutcome, Sealed
from tokenplace.relay.errors import RelayError
from tokenplace.relay.registry import Registry

log = logging.getLogger(__name__)


class MeteredDispatch:
    """Settlement (charge, earn, log) runs after the answer is returned, off the hot path;
    until it lands the balance still holds the full reservation, so it errs safe."""

    def __init__(self, admission: Admission, dispatcher: Dispatcher, registry: Registry) -> None:
        self.admission = admission
        self.dispatcher = dispatcher
        self.registry = registry
        self._settling: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Wait for every pending settlement (before shutdown, or in tests)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._settling.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._settling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("settlement failed: %s", type(task.exception()).__name__)

    async def admit(self, caller: CallerInfo, request_id: str) -> Ticket:
        return await self.admission.admit(caller, request_id)

    async def run(
        self,
        ticket: Ticket,
        node_id: str,
        model: str,
        sealed: Sealed,
        timeout_seconds: float | None,
        report_start: bool = False,
    ) -> JobOutcome:
        """Dispatch under `ticket`: settle on success, release (charge nothing) otherwise."""
        try:
            outcome = await self.dispatcher.dispatch(
                node_id, model, sealed, timeout_seconds, report_start
            )
        except BaseException as error:
            status = error.reason_code if isinstance(error, RelayError) else "cancelled"
            self._later(ticket.release(model, node_id, status))
            raise
        if not ticket.billed:
            ticket.lease.release()  # open mode: nothing to settle, no task to spawn
            return outcome
        node = self.registry.find(node_id)
        earner = node.owner_account_id if node is not None else None
        self._later(
            ticket.settle(model, node_id, outcome.prompt_tokens, outcome.completion_tokens, earner)
        )
        return outcome
