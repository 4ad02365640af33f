"""Token Router instances: model-serving nodes an account registers. Inventory: inventory.py.

Everything an owner does is scoped to the owner's account: another account's instance
is simply not found. A node started with an instance token ("tp_inst_<id>_<secret>",
shown once; only its SHA-256 is stored) proves which instance it is with
`instance_for_token`, then reports its own hardware and software through
Inventory.replace_inventory.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import grpc
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenplace.relay.accounts.keys import account_row, required_text
from tokenplace.relay.errors import InvalidArgument, RelayError
from tokenplace.relay.store import SQLStore, as_utc, utc_now
from tokenplace.relay.store.accounts_schema import (
    INSTANCE_STATUSES,
    InstanceRow,
    ProcessingUnitRow,
    SoftwareRow,
)
from tokenplace.relay.store.sqlite import Sessions
from tokenplace.v1 import errors_pb2

TOKEN_PATTERN = re.compile(r"tp_inst_([0-9a-f]{32})_([A-Za-z0-9]{40})")
_ALPHABET = string.ascii_letters + string.digits


class InstanceNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_INSTANCE_NOT_FOUND


class InvalidInstanceToken(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_INVALID_INSTANCE_TOKEN


class Unset(enum.Enum):
    """Marks a field an update leaves alone (None can be a real value, e.g. no endpoint)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    account_id: str
    name: str
    endpoint: str | None
    status: str
    created_at: datetime
    updated_at: datetime


class CreatedInstance(NamedTuple):
    instance: Instance
    token: str  # the instance token, shown once


class Instances:
    def __init__(self, store: SQLStore) -> None:
        self._sessions = Sessions(store)

    # Instances, scoped to their owner

    async def create_instance(
        self, account_id: str, name: str, endpoint: str | None = None
    ) -> CreatedInstance:
        instance_id, now = uuid.uuid4(), utc_now()
        token = _new_token(instance_id)
        row = InstanceRow(
            id=str(instance_id),
            account_id=account_id,
            name=required_text("name", name),
            endpoint=_endpoint(endpoint),
            status="pending",
            token_hash=_digest(token),
            created_at=now,
            updated_at=now,
        )
        async with self._sessions.begin() as session:
            await account_row(session, account_id)
            session.add(row)
        return CreatedInstance(_instance(row), token)

    async def get_instance(self, account_id: str, instance_id: str) -> Instance:
        async with self._sessions.read() as session:
            return _instance(await owned_instance(session, account_id, instance_id))

    async def list_instances(self, account_id: str) -> list[Instance]:
        query = select(InstanceRow).where(InstanceRow.account_id == account_id)
        async with self._sessions.read() as session:
            rows = await session.scalars(query.order_by(InstanceRow.created_at, InstanceRow.id))
            return [_instance(row) for row in rows]

    async def update_instance(
        self,
        account_id: str,
        instance_id: str,
        *,
        name: str | Unset = UNSET,
        endpoint: str | Unset | None = UNSET,
        status: str | Unset = UNSET,
    ) -> Instance:
        changes = validated(
            {"name": name, "endpoint": endpoint, "status": status}, _INSTANCE_FIELDS
        )
        async with self._sessions.begin() as session:
            row = await owned_instance(session, account_id, instance_id)
            apply_changes(row, changes)
            row.updated_at = utc_now()
        return _instance(row)

    async def delete_instance(self, account_id: str, instance_id: str) -> None:
        async with self._sessions.begin() as session:
            row = await owned_instance(session, account_id, instance_id)
            await delete_inventory(session, instance_id)
            await session.delete(row)

    async def rotate_token(self, account_id: str, instance_id: str) -> str:
        """A new instance token (shown once); the old one stops working."""
        async with self._sessions.begin() as session:
            row = await owned_instance(session, account_id, instance_id)
            token = _new_token(uuid.UUID(row.id))
            row.token_hash, row.updated_at = _digest(token), utc_now()
        return token

    # A node acting as its instance

    async def instance_for_token(self, token: str) -> Instance:
        """The instance an instance token belongs to, or InvalidInstanceToken."""
        match = TOKEN_PATTERN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise InvalidInstanceToken("the instance token is missing or malformed")
        async with self._sessions.read() as session:
            row = await session.get(InstanceRow, str(uuid.UUID(hex=match[1])))
        stored = row.token_hash if row is not None else _digest("")
        if not hmac.compare_digest(stored, _digest(token)) or row is None:
            raise InvalidInstanceToken("the instance token is invalid")
        if row.status == "disabled":
            raise InvalidInstanceToken("the instance is disabled by its owner")
        return _instance(row)

    async def set_status(self, instance_id: str, status: str) -> None:
        """Relay-side status changes (a node came online, went away)."""
        status = _status(status)
        async with self._sessions.begin() as session:
            row = await session.get(InstanceRow, instance_id)
            if row is None:
                raise InstanceNotFound(f"no instance {instance_id!r}")
            row.status, row.updated_at = status, utc_now()


async def owned_instance(session: AsyncSession, account_id: str, instance_id: str) -> InstanceRow:
    row = await session.get(InstanceRow, instance_id)
    if row is None or row.account_id != account_id:
        raise InstanceNotFound(f"no instance {instance_id!r}")
    return row


async def delete_inventory(session: AsyncSession, instance_id: str) -> None:
    # Explicit, not left to ON DELETE CASCADE: that needs SQLite's foreign_keys pragma.
    for model in (ProcessingUnitRow, SoftwareRow):
        await session.execute(delete(model).where(model.instance_id == instance_id))


def apply_changes(row: object, changes: dict[str, object]) -> None:
    for field, value in changes.items():
        setattr(row, field, value)


def validated(
    changes: dict[str, Any], validators: dict[str, Callable[[Any], object]]
) -> dict[str, object]:
    unknown = set(changes) - set(validators)
    if unknown:
        raise InvalidArgument(f"{sorted(unknown)[0]}: cannot be changed")
    return {f: validators[f](v) for f, v in changes.items() if v is not UNSET}


def _endpoint(value: str | None) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = required_text("endpoint", value, 2000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument("endpoint: must be an http(s) URL")
    return text


def _status(value: object) -> str:
    if value not in INSTANCE_STATUSES:
        raise InvalidArgument(f"status: must be one of {', '.join(INSTANCE_STATUSES)}")
    return str(value)


_INSTANCE_FIELDS: dict[str, Callable[[Any], object]] = {
    "name": lambda v: required_text("name", v),
    "endpoint": _endpoint,
    "status": _status,
}


def _new_token(instance_id: uuid.UUID) -> str:
    return f"tp_inst_{instance_id.hex}_{''.join(secrets.choice(_ALPHABET) for _ in range(40))}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _instance(row: InstanceRow) -> Instance:
    return Instance(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        endpoint=row.endpoint,
        status=row.status,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )
