"""Admission in front of dispatch: who is calling, may they, and can they pay.

`open` mode (a local `tokenplace up`): no key, limits per client IP, no billing.
`keys` mode: a valid API key, limits per key and per account, and Tok0n-style
billing: reserve (prompt estimate + max_tokens) before dispatch, charge the real
usage after, release the rest; nothing is charged when the work fails. Either
way a request log row records metadata and token counts, never content.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from relay.accounts import Accounts, InvalidApiKey
from relay.billing import Billing
from relay.limits import Lease, Limits

log = logging.getLogger(__name__)
MAX_RESERVE_TOKENS = 1_000_000


@dataclass(frozen=True, slots=True)
class CallerInfo:
    api_key: str
    client_ip: str
    reserve_tokens: int


def caller_from_metadata(metadata: Any, default_reserve: int) -> CallerInfo:
    values = {key: value for key, value in metadata or ()}
    scheme, _, token = str(values.get("authorization", "")).partition(" ")
    reserve = str(values.get("x-tokenplace-reserve-tokens", ""))
    return CallerInfo(
        api_key=token.strip() if scheme.lower() == "bearer" else "",
        client_ip=str(values.get("x-tokenplace-client-ip", "unknown")),
        reserve_tokens=min(int(reserve), MAX_RESERVE_TOKENS)
        if reserve.isdigit()
        else default_reserve,
    )


@dataclass
class Ticket:
    """An admitted request: its rate-limit lease and (in keys mode) its reservation."""

    billing: Billing
    lease: Lease
    request_id: str
    reservation_id: str | None = None
    account_id: str | None = None
    key_id: str | None = None
    started: float = field(default_factory=time.monotonic)

    async def settle(
        self,
        model: str,
        node_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        earner: str | None = None,
    ) -> None:
        """Charge the real usage, release the rest, credit the node's operator."""
        self.lease.release()
        if self.account_id is None:
            return  # open mode: no account, nothing to bill or log
        used = prompt_tokens + completion_tokens
        if self.reservation_id is not None:
            await self.billing.settle(self.reservation_id, used)
        if earner is not None and used:
            await self.billing.earn(earner, used, self.request_id)
        await self._log(model, node_id, "completed", prompt_tokens, completion_tokens)

    async def release(self, model: str, node_id: str, status: str) -> None:
        """The work failed or was cancelled: charge nothing."""
        self.lease.release()
        if self.account_id is None:
            return
        if self.reservation_id is not None:
            await self.billing.release(self.reservation_id)
        await self._log(model, node_id, status, 0, 0)

    async def _log(
        self, model: str, node_id: str, status: str, prompt: int, completion: int
    ) -> None:
        await self.billing.log_request(
            model=model or "unknown",
            status=status,
            account_id=self.account_id,
            api_key_id=self.key_id,
            request_id=self.request_id,
            node_id=node_id or None,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_ms=int((time.monotonic() - self.started) * 1000),
        )


class Admission:
    def __init__(
        self,
        mode: Literal["open", "keys"],
        open_limits: Limits,
        key_limits: Limits,
        accounts: Accounts,
        billing: Billing,
    ) -> None:
        self.mode = mode
        self.open_limits = open_limits
        self.key_limits = key_limits
        self.accounts = accounts
        self.billing = billing

    async def admit(self, caller: CallerInfo, request_id: str) -> Ticket:
        if self.mode == "open":
            holder = f"ip:{caller.client_ip}"
            return Ticket(self.billing, self.open_limits.acquire(holder, holder), request_id)
        if not caller.api_key:
            raise InvalidApiKey(
                "an API key is required: send Authorization: Bearer tp_live_<prefix>_<secret>"
            )
        account, key = await self.accounts.authenticate(caller.api_key)
        lease = self.key_limits.acquire(f"key:{key.id}", f"account:{account.id}")
        try:
            reservation = await self.billing.reserve(account.id, caller.reserve_tokens, request_id)
        except BaseException:
            lease.release()
            raise
        return Ticket(self.billing, lease, request_id, reservation, account.id, key.id)
