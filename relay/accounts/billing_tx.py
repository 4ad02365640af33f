"""Billing's write transactions, as plain synchronous functions.

One implementation serves both databases: on PostgreSQL Billing runs them through
AsyncSession.run_sync (a Session); on SQLite on SqliteWriter's one writer thread (a
Connection), one thread handoff per transaction instead of one per statement. They
use Core statements only (execute/scalar work alike on both), which also skips the
ORM's unit of work on this hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, insert, select, update

from tokenplace.relay.accounts.keys import AccountNotFound, InsufficientTokens, ReservationNotFound
from tokenplace.relay.store import utc_now
from tokenplace.relay.store.accounts_schema import (
    AccountRow,
    LedgerRow,
    RequestLogRow,
    ReservationRow,
)

# Built once: constructing SQLAlchemy statements per call cost more than running them.
_DEBIT = (
    update(AccountRow)
    .where(AccountRow.id == bindparam("account"), AccountRow.balance_tokens >= bindparam("n"))
    .values(balance_tokens=AccountRow.balance_tokens - bindparam("n"))
    .returning(AccountRow.balance_tokens)
    .execution_options(synchronize_session=False)
)
_CREDIT = (
    update(AccountRow)
    .where(AccountRow.id == bindparam("account"))
    .values(balance_tokens=AccountRow.balance_tokens + bindparam("n"))
    .returning(AccountRow.balance_tokens)
    .execution_options(synchronize_session=False)
)
_CLAIM = (
    update(ReservationRow)
    .where(ReservationRow.id == bindparam("reservation"), ReservationRow.status == "open")
    .values(
        status=bindparam("status"),
        settled_at=bindparam("now"),
        charged_tokens=case(
            (ReservationRow.tokens < bindparam("used"), ReservationRow.tokens),
            else_=bindparam("used"),
        ),
    )
    .returning(
        ReservationRow.account_id,
        ReservationRow.tokens,
        ReservationRow.charged_tokens,
        ReservationRow.request_id,
    )
    .execution_options(synchronize_session=False)
)
_INSERT_RESERVATION = insert(ReservationRow)
_INSERT_LEDGER = insert(LedgerRow)
_INSERT_LOG = insert(RequestLogRow)


@dataclass(frozen=True, slots=True)
class Settlement:
    reservation_id: str
    status: str  # "settled" or "released"
    reserved_tokens: int
    charged_tokens: int
    changed: bool  # False when the reservation had been closed already (a no-op)


def reserve(
    db: Any, account_id: str, tokens: int, request_id: str | None, reservation_id: str
) -> None:
    balance = add_to_balance(db, account_id, -tokens)
    if balance is None:
        if db.scalar(select(AccountRow.id).where(AccountRow.id == account_id)) is None:
            raise AccountNotFound(f"no account {account_id!r}")
        raise InsufficientTokens(f"the account cannot cover {tokens} tokens")
    db.execute(
        _INSERT_RESERVATION,
        {
            "id": reservation_id,
            "account_id": account_id,
            "request_id": request_id,
            "tokens": tokens,
            "status": "open",
            "created_at": utc_now(),
        },
    )
    ledger(db, account_id, "reserve", -tokens, balance, request_id, reservation_id)


def credit(db: Any, account_id: str, tokens: int, kind: str, request_id: str | None) -> int:
    balance = add_to_balance(db, account_id, tokens)
    if balance is None:
        raise AccountNotFound(f"no account {account_id!r}")
    ledger(db, account_id, kind, tokens, balance, request_id, None)
    return balance


def close(db: Any, reservation_id: str, status: str, used: int) -> Settlement:
    # Claiming the open reservation with a conditional UPDATE makes a concurrent
    # second settle/release wait for this one and then find nothing to do.
    params = {"reservation": reservation_id, "status": status, "now": utc_now(), "used": used}
    row = db.execute(_CLAIM, params).first()
    if row is None:
        return _closed_already(db, reservation_id)
    charged = row.charged_tokens or 0
    balance = add_to_balance(db, row.account_id, row.tokens - charged)
    assert balance is not None  # a credit applies to any existing account
    # The whole hold comes back, then the usage goes out: charges alone sum to spend.
    ids = (row.request_id, reservation_id)
    ledger(db, row.account_id, "release", row.tokens, balance + charged, *ids)
    if status == "settled":
        ledger(db, row.account_id, "charge", -charged, balance, *ids)
    return Settlement(reservation_id, status, row.tokens, charged, changed=True)


def finish(
    db: Any,
    reservation_id: str,
    status: str,
    used: int,
    log: dict[str, Any],
    earner: str | None,
) -> Settlement:
    """Close the reservation, credit the node's operator, write the request log."""
    settlement = close(db, reservation_id, status, used)
    if earner is not None and settlement.changed and settlement.charged_tokens:
        balance = add_to_balance(db, earner, settlement.charged_tokens)
        if balance is not None:
            tokens = settlement.charged_tokens
            ledger(db, earner, "earn", tokens, balance, log["request_id"], None)
    add_log(db, log)
    return settlement


def add_log(db: Any, log: dict[str, Any]) -> None:
    """A request log row: metadata and token counts (there is no column for content)."""
    db.execute(_INSERT_LOG, log)


def add_to_balance(db: Any, account_id: str, delta: int) -> int | None:
    """Apply `delta` unless it would overdraw: the new balance, or None if not applied."""
    statement, amount = (_DEBIT, -delta) if delta < 0 else (_CREDIT, delta)
    balance: int | None = db.scalar(statement, {"account": account_id, "n": amount})
    return balance


def ledger(
    db: Any,
    account_id: str,
    kind: str,
    tokens: int,
    balance_after: int,
    request_id: str | None,
    reservation_id: str | None,
) -> None:
    db.execute(
        _INSERT_LEDGER,
        {
            "account_id": account_id,
            "kind": kind,
            "tokens": tokens,
            "balance_after": balance_after,
            "request_id": request_id,
            "reservation_id": reservation_id,
            "created_at": utc_now(),
        },
    )


def _closed_already(db: Any, reservation_id: str) -> Settlement:
    query = select(ReservationRow.status, ReservationRow.tokens, ReservationRow.charged_tokens)
    row = db.execute(query.where(ReservationRow.id == reservation_id)).first()
    if row is None:
        raise ReservationNotFound(f"no reservation {reservation_id!r}")
    return Settlement(reservation_id, row.status, row.tokens, row.charged_tokens or 0, False)
