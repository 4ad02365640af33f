"""Token billing (Tok0n's model): grants, reserve → settle | release, operator earnings.

`reserve` takes tokens off the balance with one conditional UPDATE (... WHERE
balance_tokens >= n), so no interleaving of requests, nor of relays sharing a PostgreSQL
database, can overdraw an account. `settle` charges what was used and gives back the
rest; `release` gives back everything (timeouts, lost nodes, errors). Every movement
writes a ledger row in the same transaction as the balance change, so an account's
balance always equals the sum of its ledger rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relay.accounts import (
    AccountNotFound,
    InsufficientTokens,
    ReservationNotFound,
    account_row,
    required_text,
)
from relay.errors import InvalidArgument
from relay.store import SQLStore, as_utc, utc_now
from relay.store.accounts_schema import AccountRow, LedgerRow, RequestLogRow, ReservationRow
from relay.store.sqlite import Sessions

MAX_TOKENS = 10**15  # far beyond any real balance, far below BigInteger's limit


@dataclass(frozen=True, slots=True)
class Settlement:
    reservation_id: str
    status: str  # "settled" or "released"
    reserved_tokens: int
    charged_tokens: int
    changed: bool  # False when the reservation had been closed already (a no-op)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    kind: str
    tokens: int
    balance_after: int
    request_id: str | None
    reservation_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequestLog:
    """A request's metadata and token counts. There is no field for content."""

    model: str
    status: str
    account_id: str | None = None
    api_key_id: str | None = None
    request_id: str | None = None
    node_id: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0

    def row(self) -> RequestLogRow:
        return RequestLogRow(
            account_id=self.account_id,
            api_key_id=self.api_key_id,
            request_id=short_id("request_id", self.request_id),
            model=required_text("model", self.model, 256),
            node_id=short_id("node_id", self.node_id),
            status=required_text("status", self.status, 64),
            prompt_tokens=token_count("prompt_tokens", self.prompt_tokens, minimum=0),
            completion_tokens=token_count("completion_tokens", self.completion_tokens, minimum=0),
            latency_ms=token_count("latency_ms", self.latency_ms, minimum=0),
            created_at=utc_now(),
        )


class Billing:
    def __init__(self, store: SQLStore) -> None:
        self._sessions = Sessions(store)

    async def grant(self, account_id: str, tokens: int) -> int:
        """Add purchased or granted tokens; returns the new balance."""
        return await self._credit(account_id, tokens, "grant", None)

    async def earn(self, account_id: str, tokens: int, request_id: str | None = None) -> int:
        """Credit a node operator for tokens their node served; returns the new balance."""
        return await self._credit(account_id, tokens, "earn", request_id)

    async def reserve(self, account_id: str, tokens: int, request_id: str | None = None) -> str:
        """Hold `tokens` of the balance for one request; returns the reservation id."""
        tokens = token_count("tokens", tokens, minimum=1)
        request_id = short_id("request_id", request_id)
        reservation_id = str(uuid.uuid4())
        async with self._sessions.begin() as session:
            balance = await _add_to_balance(session, account_id, -tokens)
            if balance is None:
                await account_row(session, account_id)  # AccountNotFound if that is why
                raise InsufficientTokens(f"the account cannot cover {tokens} tokens")
            session.add(
                ReservationRow(
                    id=reservation_id,
                    account_id=account_id,
                    request_id=request_id,
                    tokens=tokens,
                    status="open",
                    created_at=utc_now(),
                )
            )
            _ledger(session, account_id, "reserve", -tokens, balance, request_id, reservation_id)
        return reservation_id

    async def settle(self, reservation_id: str, used_tokens: int) -> Settlement:
        """Charge min(used, reserved) and release the rest. Settling twice is a no-op.

        Usage beyond the reservation is not charged: the reservation is the most a
        request can cost, as the caller was told before it ran.
        """
        used = token_count("used_tokens", used_tokens, minimum=0)
        return await self._close(reservation_id, "settled", used)

    async def release(self, reservation_id: str) -> Settlement:
        """Give the whole reservation back: nothing is charged. Again is a no-op."""
        return await self._close(reservation_id, "released", 0)

    async def ledger(self, account_id: str, limit: int = 1000) -> list[LedgerEntry]:
        """The account's ledger, oldest first."""
        query = select(LedgerRow).where(LedgerRow.account_id == account_id)
        async with self._sessions.read() as session:
            rows = await session.scalars(query.order_by(LedgerRow.id).limit(limit))
            return [_ledger_entry(row) for row in rows]

    async def log_request(self, **fields: Any) -> None:
        """Record a request's metadata and token counts (RequestLog's fields)."""
        async with self._sessions.begin() as session:
            session.add(RequestLog(**fields).row())

    async def _credit(self, account_id: str, tokens: int, kind: str, request_id: str | None) -> int:
        tokens = token_count("tokens", tokens, minimum=1)
        request_id = short_id("request_id", request_id)
        async with self._sessions.begin() as session:
            balance = await _add_to_balance(session, account_id, tokens)
            if balance is None:
                raise AccountNotFound(f"no account {account_id!r}")
            _ledger(session, account_id, kind, tokens, balance, request_id, None)
        return balance

    async def finish(
        self,
        reservation_id: str,
        used_tokens: int,
        log: RequestLog,
        earner: str | None = None,
    ) -> Settlement:
        """Settle (used > 0) or release (used == 0, failed work), credit the node's
        operator and write the request log, in ONE transaction: on SQLite every
        transaction takes the write lock, so this is the hot path's cost after a request."""
        used = token_count("used_tokens", used_tokens, minimum=0)
        status = "settled" if log.status == "completed" else "released"
        async with self._sessions.begin() as session:
            settlement = await self._close_in(session, reservation_id, status, used)
            if earner is not None and settlement.changed and settlement.charged_tokens:
                balance = await _add_to_balance(session, earner, settlement.charged_tokens)
                if balance is not None:
                    _ledger(
                        session,
                        earner,
                        "earn",
                        settlement.charged_tokens,
                        balance,
                        log.request_id,
                        None,
                    )
            session.add(log.row())
        return settlement

    async def _close(self, reservation_id: str, status: str, used: int) -> Settlement:
        async with self._sessions.begin() as session:
            return await self._close_in(session, reservation_id, status, used)

    async def _close_in(
        self, session: AsyncSession, reservation_id: str, status: str, used: int
    ) -> Settlement:
        # Claiming the open reservation with a conditional UPDATE makes a concurrent
        # second settle/release wait for this one and then find nothing to do.
        claim = (
            update(ReservationRow)
            .where(ReservationRow.id == reservation_id, ReservationRow.status == "open")
            .values(
                status=status,
                settled_at=utc_now(),
                charged_tokens=case(
                    (ReservationRow.tokens < used, ReservationRow.tokens), else_=used
                ),
            )
            .returning(ReservationRow)
        )
        row = await session.scalar(claim.execution_options(synchronize_session=False))
        if row is None:
            return await _closed_already(session, reservation_id)
        charged = row.charged_tokens or 0
        balance = await _add_to_balance(session, row.account_id, row.tokens - charged)
        assert balance is not None  # a credit applies to any existing account
        # The whole hold comes back, then the usage goes out: charges alone sum to spend.
        ids = (row.request_id, reservation_id)
        _ledger(session, row.account_id, "release", row.tokens, balance + charged, *ids)
        if status == "settled":
            _ledger(session, row.account_id, "charge", -charged, balance, *ids)
        return Settlement(reservation_id, status, row.tokens, charged, changed=True)


async def _add_to_balance(session: AsyncSession, account_id: str, delta: int) -> int | None:
    """Apply `delta` unless it would overdraw: the new balance, or None if not applied."""
    statement = update(AccountRow).where(AccountRow.id == account_id)
    if delta < 0:
        statement = statement.where(AccountRow.balance_tokens >= -delta)
    statement = statement.values(balance_tokens=AccountRow.balance_tokens + delta)
    returning = statement.returning(AccountRow.balance_tokens)
    return await session.scalar(returning.execution_options(synchronize_session=False))


async def _closed_already(session: AsyncSession, reservation_id: str) -> Settlement:
    row = await session.get(ReservationRow, reservation_id)
    if row is None:
        raise ReservationNotFound(f"no reservation {reservation_id!r}")
    charged = row.charged_tokens or 0
    return Settlement(reservation_id, row.status, row.tokens, charged, changed=False)


def _ledger(
    session: AsyncSession,
    account_id: str,
    kind: str,
    tokens: int,
    balance_after: int,
    request_id: str | None,
    reservation_id: str | None,
) -> None:
    session.add(
        LedgerRow(
            account_id=account_id,
            kind=kind,
            tokens=tokens,
            balance_after=balance_after,
            request_id=request_id,
            reservation_id=reservation_id,
            created_at=utc_now(),
        )
    )


def _ledger_entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        kind=row.kind,
        tokens=row.tokens,
        balance_after=row.balance_after,
        request_id=row.request_id,
        reservation_id=row.reservation_id,
        created_at=as_utc(row.created_at),
    )


def token_count(field: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{field}: must be an integer")
    if not minimum <= value <= MAX_TOKENS:
        raise InvalidArgument(f"{field}: must be from {minimum} to {MAX_TOKENS}")
    return value


def short_id(field: str, value: str | None, max_chars: int = 128) -> str | None:
    """An optional identifier that fits its column (PostgreSQL refuses longer ones)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        raise InvalidArgument(f"{field}: must be a string of at most {max_chars} characters")
    return value
