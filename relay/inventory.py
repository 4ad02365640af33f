"""An instance's hardware (processing units) and software inventory.

Owners edit single items, scoped to an instance of theirs (Token Router's
processing-units and software sub-resources); a node registering with its instance
token replaces the whole inventory with what it found on its machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import grpc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenplace.relay.accounts.keys import required_text
from tokenplace.relay.errors import InvalidArgument, RelayError
from tokenplace.relay.instances import (
    InstanceNotFound,
    apply_changes,
    delete_inventory,
    owned_instance,
    validated,
)
from tokenplace.relay.store import SQLStore, utc_now
from tokenplace.relay.store.accounts_schema import InstanceRow, ProcessingUnitRow, SoftwareRow
from tokenplace.relay.store.sqlite import Sessions
from tokenplace.v1 import errors_pb2

UNIT_KINDS = ("cpu", "gpu", "npu", "tpu", "other")
MAX_INVENTORY_ITEMS = 64  # of each kind, per instance
MAX_UNIT_COUNT = 1024


class ProcessingUnitNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_PROCESSING_UNIT_NOT_FOUND


class SoftwareNotFound(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_SOFTWARE_NOT_FOUND


@dataclass(frozen=True, slots=True)
class ProcessingUnitSpec:
    kind: str
    model: str
    count: int = 1
    memory_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class ProcessingUnit:
    id: str
    instance_id: str
    kind: str
    model: str
    count: int
    memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class SoftwareSpec:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Software:
    id: str
    instance_id: str
    name: str
    version: str


class InventoryItems(NamedTuple):
    processing_units: list[ProcessingUnit]
    software: list[Software]


Child = ProcessingUnitRow | SoftwareRow


class Inventory:
    def __init__(self, store: SQLStore) -> None:
        self._sessions = Sessions(store)

    # Processing units

    async def list_processing_units(
        self, account_id: str, instance_id: str
    ) -> list[ProcessingUnit]:
        rows = await self._list(account_id, instance_id, ProcessingUnitRow)
        return [_unit(row) for row in rows]

    async def add_processing_unit(
        self, account_id: str, instance_id: str, unit: ProcessingUnitSpec
    ) -> ProcessingUnit:
        return _unit(await self._add(account_id, instance_id, _unit_row(instance_id, unit)))

    async def update_processing_unit(
        self, account_id: str, instance_id: str, unit_id: str, **changes: Any
    ) -> ProcessingUnit:
        """Change any of kind, model, count, memory_bytes."""
        fields = validated(changes, _UNIT_FIELDS)
        return _unit(
            await self._update(account_id, instance_id, unit_id, ProcessingUnitRow, fields)
        )

    async def delete_processing_unit(self, account_id: str, instance_id: str, unit_id: str) -> None:
        await self._delete(account_id, instance_id, unit_id, ProcessingUnitRow)

    # Software

    async def list_software(self, account_id: str, instance_id: str) -> list[Software]:
        return [_software(row) for row in await self._list(account_id, instance_id, SoftwareRow)]

    async def add_software(
        self, account_id: str, instance_id: str, software: SoftwareSpec
    ) -> Software:
        row = _software_row(instance_id, software)
        return _software(await self._add(account_id, instance_id, row))

    async def update_software(
        self, account_id: str, instance_id: str, software_id: str, **changes: Any
    ) -> Software:
        """Change name and/or version."""
        fields = validated(changes, _SOFTWARE_FIELDS)
        row = await self._update(account_id, instance_id, software_id, SoftwareRow, fields)
        return _software(row)

    async def delete_software(self, account_id: str, instance_id: str, software_id: str) -> None:
        await self._delete(account_id, instance_id, software_id, SoftwareRow)

    # A node reporting its machine

    async def replace_inventory(
        self,
        instance_id: str,
        processing_units: Sequence[ProcessingUnitSpec],
        software: Sequence[SoftwareSpec],
    ) -> InventoryItems:
        """Swap the instance's whole inventory for what its node reports, in one transaction.

        Callers must have authenticated the node as this instance (instance_for_token).
        """
        for label, items in (("processing_units", processing_units), ("software", software)):
            if len(items) > MAX_INVENTORY_ITEMS:
                raise InvalidArgument(f"{label}: at most {MAX_INVENTORY_ITEMS} items")
        units = [_unit_row(instance_id, unit) for unit in processing_units]
        programs = [_software_row(instance_id, item) for item in software]
        async with self._sessions.begin() as session:
            instance = await session.get(InstanceRow, instance_id)
            if instance is None:
                raise InstanceNotFound(f"no instance {instance_id!r}")
            await delete_inventory(session, instance_id)
            session.add_all([*units, *programs])
            instance.updated_at = utc_now()
        return InventoryItems([_unit(u) for u in units], [_software(s) for s in programs])

    # Shared by both item kinds

    async def _list(self, account_id: str, instance_id: str, model: type[Child]) -> list[Any]:
        query = select(model).where(model.instance_id == instance_id).order_by(model.id)
        async with self._sessions.read() as session:
            await owned_instance(session, account_id, instance_id)
            return list((await session.scalars(query)).all())

    async def _add(self, account_id: str, instance_id: str, row: Child) -> Any:
        model = type(row)
        count = select(model.id).where(model.instance_id == instance_id)
        async with self._sessions.begin() as session:
            instance = await owned_instance(session, account_id, instance_id)
            if len((await session.scalars(count)).all()) >= MAX_INVENTORY_ITEMS:
                raise InvalidArgument(f"at most {MAX_INVENTORY_ITEMS} items per instance")
            session.add(row)
            instance.updated_at = utc_now()
        return row

    async def _update(
        self,
        account_id: str,
        instance_id: str,
        item_id: str,
        model: type[Child],
        fields: dict[str, object],
    ) -> Any:
        async with self._sessions.begin() as session:
            row = await _owned_item(session, account_id, instance_id, item_id, model)
            apply_changes(row, fields)
        return row

    async def _delete(
        self, account_id: str, instance_id: str, item_id: str, model: type[Child]
    ) -> None:
        async with self._sessions.begin() as session:
            await session.delete(
                await _owned_item(session, account_id, instance_id, item_id, model)
            )


async def _owned_item(
    session: AsyncSession, account_id: str, instance_id: str, item_id: str, model: type[Child]
) -> Any:
    instance = await owned_instance(session, account_id, instance_id)
    row: Child | None = await session.get(model, item_id)
    if row is None or row.instance_id != instance_id:
        error = ProcessingUnitNotFound if model is ProcessingUnitRow else SoftwareNotFound
        raise error(f"no item {item_id!r} on instance {instance_id!r}")
    instance.updated_at = utc_now()
    return row


def _kind(value: object) -> str:
    if value not in UNIT_KINDS:
        raise InvalidArgument(f"kind: must be one of {', '.join(UNIT_KINDS)}")
    return str(value)


def _bounded_int(field: str, low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidArgument(f"{field}: must be an integer from {low} to {high}")
        return value

    return check


def _memory(value: object) -> int | None:
    return None if value is None else _bounded_int("memory_bytes", 0, 2**62)(value)


_UNIT_FIELDS: dict[str, Callable[[Any], object]] = {
    "kind": _kind,
    "model": lambda v: required_text("model", v),
    "count": _bounded_int("count", 1, MAX_UNIT_COUNT),
    "memory_bytes": _memory,
}
_SOFTWARE_FIELDS: dict[str, Callable[[Any], object]] = {
    "name": lambda v: required_text("name", v),
    "version": lambda v: required_text("version", v, 100),
}


def _unit_row(instance_id: str, unit: ProcessingUnitSpec) -> ProcessingUnitRow:
    spec = {"kind": unit.kind, "model": unit.model, "count": unit.count}
    fields = validated({**spec, "memory_bytes": unit.memory_bytes}, _UNIT_FIELDS)
    return ProcessingUnitRow(id=str(uuid.uuid4()), instance_id=instance_id, **fields)


def _software_row(instance_id: str, software: SoftwareSpec) -> SoftwareRow:
    fields = validated({"name": software.name, "version": software.version}, _SOFTWARE_FIELDS)
    return SoftwareRow(id=str(uuid.uuid4()), instance_id=instance_id, **fields)


def _unit(row: ProcessingUnitRow) -> ProcessingUnit:
    return ProcessingUnit(row.id, row.instance_id, row.kind, row.model, row.count, row.memory_bytes)


def _software(row: SoftwareRow) -> Software:
    return Software(row.id, row.instance_id, row.name, row.version)
