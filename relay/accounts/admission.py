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
from typing import Literal

import grpc
from sqlalchemy.exc import SQLAlchemyError

from tokenplace.client import metadata as keys
from tokenplace.client.metadata import ReceivedMetadata, metadata_value
from tokenplace.relay.accounts.billing import Billing, RequestLog
from tokenplace.relay.accounts.keys import Accounts, InvalidApiKey
from tokenplace.relay.accounts.limits import Lease, Limits
from tokenplace.relay.errors import RelayError
from tokenplace.v1 import errors_pb2

log = logging.getLogger(__name__)
MAX_RESERVE_TOKENS = 1_000_000


class AccountingUnavailable(RelayError):
    """The database behind keys and billing failed: refuse rather than run unbilled."""

    status_code = grpc.StatusCode.INTERNAL
    reason = errors_pb2.ERROR_REASON_ACCOUNTING_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class CallerInfo:
    api_key: str
    client_ip: str
    reserve_tokens: int


def caller_from_metadata(metadata: ReceivedMetadata | None, default_reserve: int) -> CallerInfo:
    scheme, _, token = (metadata_value(metadata, keys.AUTHORIZATION) or "").partition(" ")
    reserve = metadata_value(metadata, keys.RESERVE_TOKENS) or ""
    return CallerInfo(
        api_key=token.strip() if scheme.lower() == "bearer" else "",
        client_ip=metadata_value(metadata, keys.CLIENT_IP) or "unknown",
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

    @property
    def billed(self) -> bool:
        """True in keys mode: a reservation to settle and a request log to write."""
        return self.reservation_id is not None

    async def settle(
        self,
        model: str,
        node_id: str,
        prompt_tokens: int,
        completion_tokens: int,
        earner: str | None = None,
    ) -> None:
        """Charge the real usage, release the rest, credit the node's operator, log it."""
        await self._finish(model, node_id, "completed", prompt_tokens, completion_tokens, earner)

    async def release(self, model: str, node_id: str, status: str) -> None:
        """The work failed or was cancelled: charge nothing (but log it)."""
        await self._finish(model, node_id, status, 0, 0, None)

    async def _finish(
        self,
        model: str,
        node_id: str,
        status: str,
        prompt: int,
        completion: int,
        earner: str | None,
    ) -> None:
        self.lease.release()
        if self.reservation_id is None:
            return  # open mode: no account, nothing to bill or log
        log = RequestLog(
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
        await self.billing.finish(self.reservation_id, prompt + completion, log, earner)


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
        try:
            account, key = await self.accounts.authenticate(caller.api_key)
        except SQLAlchemyError as error:
            raise AccountingUnavailable("accounts are unavailable; retry shortly") from error
        lease = self.key_limits.acquire(f"key:{key.id}", f"account:{account.id}")
        try:
            reservation = await self.billing.reserve(account.id, caller.reserve_tokens, request_id)
        except SQLAlchemyError as error:
            lease.release()
            raise AccountingUnavailable(
                "token accounting is unavailable; nothing was charged, retry shortly"
            ) from error
        except BaseException:
            lease.release()
            raise
        return Ticket(self.billing, lease, request_id, reservation, account.id, key.id)
