"""Client for the relay's InstanceService: a caller's instances and their inventory.

Every call carries the caller's own API key (authorization metadata); the relay scopes
it to that account. Protobuf stays at this edge: callers get plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from tokenplace.gateway.relay_client import Metadata, call
from tokenplace.v1 import instance_pb2, instance_pb2_grpc

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class InstanceView:
    id: str
    name: str
    endpoint: str | None
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessingUnitView:
    id: str
    kind: str
    model: str
    count: int
    memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class SoftwareView:
    id: str
    name: str
    version: str


def instance_view(instance: instance_pb2.Instance) -> InstanceView:
    return InstanceView(
        id=instance.id,
        name=instance.name,
        endpoint=instance.endpoint if instance.HasField("endpoint") else None,
        status=instance.status,
        created_at=instance.created_at.ToDatetime(tzinfo=UTC),
        updated_at=instance.updated_at.ToDatetime(tzinfo=UTC),
    )


def processing_unit_view(unit: instance_pb2.ProcessingUnit) -> ProcessingUnitView:
    memory = unit.memory_bytes if unit.HasField("memory_bytes") else None
    return ProcessingUnitView(unit.id, unit.kind, unit.model, unit.count, memory)


def software_view(software: instance_pb2.Software) -> SoftwareView:
    return SoftwareView(software.id, software.name, software.version)


def masked(message_type: type[M], changes: Mapping[str, Any]) -> tuple[M, field_mask_pb2.FieldMask]:
    """The message holding the changes, and the mask naming them (None clears a field)."""
    values = {field: value for field, value in changes.items() if value is not None}
    return message_type(**values), field_mask_pb2.FieldMask(paths=list(changes))


class InstanceClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = instance_pb2_grpc.InstanceServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def _call(
        self, rpc: Callable[..., Awaitable[Any]], request: Message, metadata: Metadata
    ) -> Any:
        return await call(rpc, request, metadata=metadata, timeout=self.timeout_seconds)

    # Instances

    async def list_instances(self, metadata: Metadata) -> list[InstanceView]:
        request = instance_pb2.ListInstancesRequest()
        reply = await self._call(self._stub.ListInstances, request, metadata)
        return [instance_view(instance) for instance in reply.instances]

    async def create_instance(
        self, metadata: Metadata, name: str, endpoint: str | None
    ) -> tuple[InstanceView, str]:
        """The new instance and its instance token (shown this once)."""
        request = instance_pb2.CreateInstanceRequest(name=name, endpoint=endpoint)
        reply = await self._call(self._stub.CreateInstance, request, metadata)
        return instance_view(reply.instance), reply.instance_token

    async def get_instance(self, metadata: Metadata, instance_id: str) -> InstanceView:
        request = instance_pb2.GetInstanceRequest(instance_id=instance_id)
        reply = await self._call(self._stub.GetInstance, request, metadata)
        return instance_view(reply.instance)

    async def update_instance(
        self, metadata: Metadata, instance_id: str, changes: Mapping[str, Any]
    ) -> InstanceView:
        instance, mask = masked(instance_pb2.Instance, changes)
        request = instance_pb2.UpdateInstanceRequest(
            instance_id=instance_id, instance=instance, update_mask=mask
        )
        reply = await self._call(self._stub.UpdateInstance, request, metadata)
        return instance_view(reply.instance)

    async def delete_instance(self, metadata: Metadata, instance_id: str) -> None:
        request = instance_pb2.DeleteInstanceRequest(instance_id=instance_id)
        await self._call(self._stub.DeleteInstance, request, metadata)

    # Processing units

    async def list_processing_units(
        self, metadata: Metadata, instance_id: str
    ) -> list[ProcessingUnitView]:
        request = instance_pb2.ListProcessingUnitsRequest(instance_id=instance_id)
        reply = await self._call(self._stub.ListProcessingUnits, request, metadata)
        return [processing_unit_view(unit) for unit in reply.processing_units]

    async def add_processing_unit(
        self, metadata: Metadata, instance_id: str, unit: Mapping[str, Any]
    ) -> ProcessingUnitView:
        request = instance_pb2.CreateProcessingUnitRequest(
            instance_id=instance_id, processing_unit=instance_pb2.ProcessingUnit(**unit)
        )
        reply = await self._call(self._stub.CreateProcessingUnit, request, metadata)
        return processing_unit_view(reply.processing_unit)

    async def update_processing_unit(
        self, metadata: Metadata, instance_id: str, unit_id: str, changes: Mapping[str, Any]
    ) -> ProcessingUnitView:
        unit, mask = masked(instance_pb2.ProcessingUnit, changes)
        request = instance_pb2.UpdateProcessingUnitRequest(
            instance_id=instance_id,
            processing_unit_id=unit_id,
            processing_unit=unit,
            update_mask=mask,
        )
        reply = await self._call(self._stub.UpdateProcessingUnit, request, metadata)
        return processing_unit_view(reply.processing_unit)

    async def delete_processing_unit(
        self, metadata: Metadata, instance_id: str, unit_id: str
    ) -> None:
        request = instance_pb2.DeleteProcessingUnitRequest(
            instance_id=instance_id, processing_unit_id=unit_id
        )
        await self._call(self._stub.DeleteProcessingUnit, request, metadata)

    # Software

    async def list_software(self, metadata: Metadata, instance_id: str) -> list[SoftwareView]:
        request = instance_pb2.ListSoftwareRequest(instance_id=instance_id)
        reply = await self._call(self._stub.ListSoftware, request, metadata)
        return [software_view(item) for item in reply.software]

    async def add_software(
        self, metadata: Metadata, instance_id: str, name: str, version: str
    ) -> SoftwareView:
        request = instance_pb2.CreateSoftwareRequest(
            instance_id=instance_id, software=instance_pb2.Software(name=name, version=version)
        )
        reply = await self._call(self._stub.CreateSoftware, request, metadata)
        return software_view(reply.software)

    async def update_software(
        self, metadata: Metadata, instance_id: str, software_id: str, changes: Mapping[str, Any]
    ) -> SoftwareView:
        software, mask = masked(instance_pb2.Software, changes)
        request = instance_pb2.UpdateSoftwareRequest(
            instance_id=instance_id,
            software_id=software_id,
            software=software,
            update_mask=mask,
        )
        reply = await self._call(self._stub.UpdateSoftware, request, metadata)
        return software_view(reply.software)

    async def delete_software(self, metadata: Metadata, instance_id: str, software_id: str) -> None:
        request = instance_pb2.DeleteSoftwareRequest(
            instance_id=instance_id, software_id=software_id
        )
        await self._call(self._stub.DeleteSoftware, request, metadata)
