"""Dispatch behind admission: the one place a job is admitted, run, and accounted for."""

from __future__ import annotations

from relay.admission import Admission, CallerInfo, Ticket
from relay.dispatcher import Dispatcher, JobOutcome, Sealed
from relay.errors import RelayError
from relay.registry import Registry


class MeteredDispatch:
    def __init__(self, admission: Admission, dispatcher: Dispatcher, registry: Registry) -> None:
        self.admission = admission
        self.dispatcher = dispatcher
        self.registry = registry

    async def admit(self, caller: CallerInfo, request_id: str) -> Ticket:
        return await self.admission.admit(caller, request_id)

    async def run(
        self,
        ticket: Ticket,
        node_id: str,
        model: str,
        sealed: Sealed,
        timeout_seconds: float | None,
    ) -> JobOutcome:
        """Dispatch under `ticket`: settle on success, release (charge nothing) otherwise."""
        try:
            outcome = await self.dispatcher.dispatch(node_id, model, sealed, timeout_seconds)
        except BaseException as error:
            status = error.reason if isinstance(error, RelayError) else "cancelled"
            await ticket.release(model, node_id, status)
            raise
        node = self.registry.find(node_id)
        await ticket.settle(
            model,
            node_id,
            outcome.prompt_tokens,
            outcome.completion_tokens,
            earner=node.owner_account_id if node is not None else None,
        )
        return outcome
