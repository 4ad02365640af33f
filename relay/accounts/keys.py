"""Accounts and their API keys, on the relay's SQL store. Token billing is billing.py.

A key is "tp_live_<prefix>_<secret>": the prefix finds the row, the SHA-256 of the full
key is compared in constant time, and only that digest is stored. The secret is shown
once, by mint_key; nothing here logs a key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import grpc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenplace.relay.errors import InvalidArgument, RelayError
from tokenplace.relay.store import SQLStore, as_utc, utc_now
from tokenplace.relay.store.accounts_schema import AccountRow, ApiKeyRow
from tokenplace.relay.store.sqlite import Sessions
from tokenplace.v1 import errors_pb2

KEY_PATTERN = re.compile(r"tp_live_([A-Za-z0-9]{12})_([A-Za-z0-9]{40})")
MAX_NAME_CHARS = 200
_ALPHABET = string.ascii_letters + string.digits  # no "_": the key's separator


class InvalidApiKey(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_INVALID_API_KEY


class AccountNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_ACCOUNT_NOT_FOUND


class AccountExists(RelayError):
    status_code = grpc.StatusCode.ALREADY_EXISTS
    reason = errors_pb2.ERROR_REASON_ACCOUNT_EXISTS


class ApiKeyNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_API_KEY_NOT_FOUND


class InsufficientTokens(RelayError):
    """The balance cannot cover the reservation (HTTP 402 at the gateway)."""

    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = errors_pb2.ERROR_REASON_INSUFFICIENT_TOKENS


class ReservationNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_RESERVATION_NOT_FOUND


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    balance_tokens: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret or hash."""

    id: str
    account_id: str
    prefix: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class MintedKey(NamedTuple):
    key: ApiKey
    secret: str  # the full "tp_live_<prefix>_<secret>", shown once


class _KeyCache:
    """Recently authenticated keys by digest, so the hot path skips the database.

    Revocation clears a key's entries and bumps `generation`; a lookup that started
    before a revocation does not cache its (possibly stale) answer. Another relay's
    revocation is seen once the entry expires, after at most `ttl` seconds.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl, self.max_entries, self.generation = ttl, max_entries, 0
        self._entries: dict[str, tuple[float, Account, ApiKey]] = {}

    def get(self, digest: str) -> tuple[Account, ApiKey] | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, digest: str, generation: int, account: Account, key: ApiKey) -> None:
        if generation != self.generation or self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest
        self._entries[digest] = (time.monotonic() + self.ttl, account, key)

    def forget(self, key_id: str) -> None:
        self.generation += 1
        for digest in [d for d, entry in self._entries.items() if entry[2].id == key_id]:
            del self._entries[digest]


class Accounts:
    def __init__(self, store: SQLStore, *, auth_cache_seconds: float = 5.0) -> None:
        self._sessions = Sessions(store)
        self._cache = _KeyCache(auth_cache_seconds)

    # Accounts

    async def create_account(self, name: str) -> Account:
        row = AccountRow(
            id=str(uuid.uuid4()),
            name=required_text("name", name),
            balance_tokens=0,
            created_at=utc_now(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError as error:
            raise AccountExists(f"an account named {row.name!r} exists already") from error
        return _account(row)

    async def me(self, account_id: str) -> Account:
        """The account with its current balance."""
        async with self._sessions.read() as session:
            return _account(await account_row(session, account_id))

    async def account_named(self, name: str) -> Account:
        async with self._sessions.read() as session:
            row = await session.scalar(select(AccountRow).where(AccountRow.name == name))
        if row is None:
            raise AccountNotFound(f"no account named {name!r}")
        return _account(row)

    # API keys

    async def mint_key(self, account_id: str, name: str = "") -> MintedKey:
        prefix = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        full_key = f"tp_live_{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(40))}"
        row = ApiKeyRow(
            id=str(uuid.uuid4()),
            account_id=account_id,
            prefix=prefix,
            secret_hash=_digest(full_key),
            name=optional_text("name", name),
            created_at=utc_now(),
        )
        async with self._sessions.begin() as session:
            await account_row(session, account_id)
            session.add(row)
        return MintedKey(_key(row), full_key)

    async def list_keys(self, account_id: str) -> list[ApiKey]:
        query = select(ApiKeyRow).where(ApiKeyRow.account_id == account_id)
        async with self._sessions.read() as session:
            rows = await session.scalars(query.order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [_key(row) for row in rows]

    async def revoke_key(self, account_id: str, key_id: str) -> ApiKey:
        """Revoke one of the account's keys (again is fine); another account's is not found."""
        async with self._sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None or row.account_id != account_id:
                raise ApiKeyNotFound(f"no API key {key_id!r}")
            row.revoked_at = row.revoked_at or utc_now()
        self._cache.forget(key_id)
        return _key(row)

    async def authenticate(self, full_key: str) -> tuple[Account, ApiKey]:
        """The account and key behind a bearer key, or InvalidApiKey.

        The balance in the returned account may be up to the cache's TTL old; use
        me() for the current one.
        """
        match = KEY_PATTERN.fullmatch(full_key) if isinstance(full_key, str) else None
        if match is None:
            raise InvalidApiKey("the API key is missing or malformed")
        digest = _digest(full_key)
        cached = self._cache.get(digest)
        if cached is not None:
            return cached
        generation = self._cache.generation
        async with self._sessions.begin() as session:
            query = select(ApiKeyRow, AccountRow).join(
                AccountRow, AccountRow.id == ApiKeyRow.account_id
            )
            found = (await session.execute(query.where(ApiKeyRow.prefix == match[1]))).first()
            stored = found[0].secret_hash if found else _digest("")
            # Compare even when the prefix is unknown, so both failures take as long.
            if not hmac.compare_digest(stored, digest) or found is None:
                raise InvalidApiKey("the API key is invalid")
            key_row, owner_row = found
            if key_row.revoked_at is not None:
                raise InvalidApiKey("the API key has been revoked")
            key_row.last_used_at = utc_now()  # to within the cache's TTL
        account, key = _account(owner_row), _key(key_row)
        self._cache.put(digest, generation, account, key)
        return account, key


async def account_row(session: AsyncSession, account_id: str) -> AccountRow:
    row = await session.get(AccountRow, account_id)
    if row is None:
        raise AccountNotFound(f"no account {account_id!r}")
    return row


def _digest(value: str) -> str:
    # Keys carry ~238 random bits, so a fast hash is enough: no guessing a preimage.
    return hashlib.sha256(value.encode()).hexdigest()


def _account(row: AccountRow) -> Account:
    return Account(row.id, row.name, row.balance_tokens, as_utc(row.created_at))


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        prefix=row.prefix,
        name=row.name,
        created_at=as_utc(row.created_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
    )


def required_text(field: str, value: object, max_chars: int = MAX_NAME_CHARS) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{field}: must be a non-empty string")
    if len(value.strip()) > max_chars:
        raise InvalidArgument(f"{field}: must be at most {max_chars} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it everywhere alike
        raise InvalidArgument(f"{field}: must not contain NUL characters")
    return value.strip()


def optional_text(field: str, value: str | None, max_chars: int = MAX_NAME_CHARS) -> str:
    """The stripped text, or "" for None or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return required_text(field, value, max_chars)
