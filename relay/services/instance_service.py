"""InstanceService: a caller's Token Router instances and their inventory, by API key.

Every RPC authenticates the bearer key in the metadata (as AccountService does) and acts
on that account only; the domain code (relay/instances.py, relay/inventory.py) makes
another account's instance indistinguishable from a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.message import Message

from tokenplace.relay.accounts import Account, Accounts
from tokenplace.relay.errors import InvalidArgument
from tokenplace.relay.instances import Instance, Instances
from tokenplace.relay.inventory import (
    Inventory,
    ProcessingUnit,
    ProcessingUnitSpec,
    Software,
    SoftwareSpec,
)
from tokenplace.relay.services.account_service import authenticated_caller
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import instance_pb2, instance_pb2_grpc

INSTANCE_FIELDS = ("name", "endpoint", "status")
PROCESSING_UNIT_FIELDS = ("kind", "model", "count", "memory_bytes")
SOFTWARE_FIELDS = ("name", "version")


async def authenticated_account(accounts: Accounts, context: grpc.aio.ServicerContext) -> Account:
    """The account whose API key the call carries, or InvalidApiKey."""
    account, _ = await authenticated_caller(accounts, context)
    return account


def masked_changes(
    message: Message, mask: field_mask_pb2.FieldMask, allowed: tuple[str, ...]
) -> dict[str, Any]:
    """{field: new value} for each path in the mask; an unset optional field means None."""
    changes: dict[str, Any] = {}
    for path in mask.paths:
        if path not in allowed:
            raise InvalidArgument(f"{path}: cannot be changed")
        field = message.DESCRIPTOR.fields_by_name[path]
        present = not field.has_presence or message.HasField(path)
        changes[path] = getattr(message, path) if present else None
    return changes


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def instance_pb(instance: Instance) -> instance_pb2.Instance:
    return instance_pb2.Instance(
        id=instance.id,
        name=instance.name,
        endpoint=instance.endpoint,
        status=instance.status,
        created_at=_stamp(instance.created_at),
        updated_at=_stamp(instance.updated_at),
    )


def processing_unit_pb(unit: ProcessingUnit) -> instance_pb2.ProcessingUnit:
    return instance_pb2.ProcessingUnit(
        id=unit.id,
        kind=unit.kind,
        model=unit.model,
        count=unit.count,
        memory_bytes=unit.memory_bytes,
    )


def software_pb(software: Software) -> instance_pb2.Software:
    return instance_pb2.Software(id=software.id, name=software.name, version=software.version)


def processing_unit_spec(unit: instance_pb2.ProcessingUnit) -> ProcessingUnitSpec:
    memory = unit.memory_bytes if unit.HasField("memory_bytes") else None
    return ProcessingUnitSpec(unit.kind, unit.model, unit.count or 1, memory)


class InstanceServicer(instance_pb2_grpc.InstanceServiceServicer):
    def __init__(self, accounts: Accounts, instances: Instances, inventory: Inventory) -> None:
        self.accounts = accounts
        self.instances = instances
        self.inventory = inventory

    async def _account_id(self, context: grpc.aio.ServicerContext) -> str:
        return (await authenticated_account(self.accounts, context)).id

    # Instances

    @translate_errors
    async def ListInstances(self, request, context):
        found = await self.instances.list_instances(await self._account_id(context))
        return instance_pb2.ListInstancesResponse(instances=[instance_pb(i) for i in found])

    @translate_errors
    async def CreateInstance(self, request, context):
        account_id = await self._account_id(context)
        endpoint = request.endpoint if request.HasField("endpoint") else None
        created = await self.instances.create_instance(account_id, request.name, endpoint)
        return instance_pb2.CreateInstanceResponse(
            instance=instance_pb(created.instance), instance_token=created.token
        )

    @translate_errors
    async def GetInstance(self, request, context):
        account_id = await self._account_id(context)
        instance = await self.instances.get_instance(account_id, request.instance_id)
        return instance_pb2.GetInstanceResponse(instance=instance_pb(instance))

    @translate_errors
    async def UpdateInstance(self, request, context):
        account_id = await self._account_id(context)
        changes = masked_changes(request.instance, request.update_mask, INSTANCE_FIELDS)
        instance = await self.instances.update_instance(account_id, request.instance_id, **changes)
        return instance_pb2.UpdateInstanceResponse(instance=instance_pb(instance))

    @translate_errors
    async def DeleteInstance(self, request, context):
        account_id = await self._account_id(context)
        await self.instances.delete_instance(account_id, request.instance_id)
        return instance_pb2.DeleteInstanceResponse()

    @translate_errors
    async def RotateInstanceToken(self, request, context):
        account_id = await self._account_id(context)
        token = await self.instances.rotate_token(account_id, request.instance_id)
        return instance_pb2.RotateInstanceTokenResponse(instance_token=token)

    # Processing units

    @translate_errors
    async def ListProcessingUnits(self, request, context):
        account_id = await self._account_id(context)
        units = await self.inventory.list_processing_units(account_id, request.instance_id)
        return instance_pb2.ListProcessingUnitsResponse(
            processing_units=[processing_unit_pb(unit) for unit in units]
        )

    @translate_errors
    async def CreateProcessingUnit(self, request, context):
        account_id = await self._account_id(context)
        unit = await self.inventory.add_processing_unit(
            account_id, request.instance_id, processing_unit_spec(request.processing_unit)
        )
        return instance_pb2.CreateProcessingUnitResponse(processing_unit=processing_unit_pb(unit))

    @translate_errors
    async def UpdateProcessingUnit(self, request, context):
        account_id = await self._account_id(context)
        changes = masked_changes(
            request.processing_unit, request.update_mask, PROCESSING_UNIT_FIELDS
        )
        unit = await self.inventory.update_processing_unit(
            account_id, request.instance_id, request.processing_unit_id, **changes
        )
        return instance_pb2.UpdateProcessingUnitResponse(processing_unit=processing_unit_pb(unit))

    @translate_errors
    async def DeleteProcessingUnit(self, request, context):
        account_id = await self._account_id(context)
        await self.inventory.delete_processing_unit(
            account_id, request.instance_id, request.processing_unit_id
        )
        return instance_pb2.DeleteProcessingUnitResponse()

    # Software

    @translate_errors
    async def ListSoftware(self, request, context):
        account_id = await self._account_id(context)
        items = await self.inventory.list_software(account_id, request.instance_id)
        return instance_pb2.ListSoftwareResponse(software=[software_pb(item) for item in items])

    @translate_errors
    async def CreateSoftware(self, request, context):
        account_id = await self._account_id(context)
        spec = SoftwareSpec(request.software.name, request.software.version)
        item = await self.inventory.add_software(account_id, request.instance_id, spec)
        return instance_pb2.CreateSoftwareResponse(software=software_pb(item))

    @translate_errors
    async def UpdateSoftware(self, request, context):
        account_id = await self._account_id(context)
        changes = masked_changes(request.software, request.update_mask, SOFTWARE_FIELDS)
        item = await self.inventory.update_software(
            account_id, request.instance_id, request.software_id, **changes
        )
        return instance_pb2.UpdateSoftwareResponse(software=software_pb(item))

    @translate_errors
    async def DeleteSoftware(self, request, context):
        account_id = await self._account_id(context)
        await self.inventory.delete_software(account_id, request.instance_id, request.software_id)
        return instance_pb2.DeleteSoftwareResponse()
