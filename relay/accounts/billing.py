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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select

from tokenplace.relay.accounts import billing_tx as tx
from tokenplace.relay.accounts.billing_tx import Settlement
from tokenplace.relay.accounts.keys import (
    required_text,
)
from tokenplace.relay.errors import InvalidArgument
from tokenplace.relay.store import SQLStore, as_utc, utc_now
from tokenplace.relay.store.accounts_schema import LedgerRow
from tokenplace.relay.store.sqlite import Sessions
from tokenplace.relay.store.sqlite_writer import SqliteWriter

T = TypeVar("T")
MAX_TOKENS = 10**15  # far beyond any real balance, far below BigInteger's limit


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

    def row(self) -> dict[str, Any]:
        """Column values of a request_logs row, validated to fit."""
        return dict(
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
        url = store.engine.url
        on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        self._writer = SqliteWriter(str(url)) if on_disk else None

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
        await self._write(tx.reserve, account_id, tokens, request_id, reservation_id)
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
        await self._write(tx.add_log, RequestLog(**fields).row())

    async def _credit(self, account_id: str, tokens: int, kind: str, request_id: str | None) -> int:
        tokens = token_count("tokens", tokens, minimum=1)
        request_id = short_id("request_id", request_id)
        return await self._write(tx.credit, account_id, tokens, kind, request_id)

    async def finish(
        self,
        reservation_id: str,
        used_tokens: int,
        log: RequestLog,
        earner: str | None = None,
    ) -> Settlement:
        """Settle (completed work) or release (failed work), credit the node's operator
        and write the request log, in ONE transaction: on SQLite every transaction
        takes the write lock, so this is the cost after each request."""
        used = token_count("used_tokens", used_tokens, minimum=0)
        status = "settled" if log.status == "completed" else "released"
        return await self._write(tx.finish, reservation_id, status, used, log.row(), earner)

    def close(self) -> None:
        """Stop the SQLite writer thread (if any)."""
        if self._writer is not None:
            self._writer.close()

    async def _write(self, work: Callable[..., T], *args: Any) -> T:
        """Run a billing transaction: on the SQLite writer thread, or via run_sync."""
        if self._writer is not None:
            return await self._writer.run(work, *args)
        async with self._sessions.begin() as session:
            return await session.run_sync(work, *args)

    async def _close(self, reservation_id: str, status: str, used: int) -> Settlement:
        return await self._write(tx.close, reservation_id, status, used)


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
