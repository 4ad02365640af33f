"""InstanceService: a caller's instances and their inventory (processing units,
software). Every call carries the caller's own API key; the relay scopes it to that
account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from tokenplace.client import convert
from tokenplace.client.metadata import Metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import Instance, ProcessingUnit, Software
from tokenplace.v1 import instance_pb2, instance_pb2_grpc

M = TypeVar("M", bound=Message)
T = TypeVar("T")


def masked(message_type: type[M], changes: Mapping[str, Any]) -> tuple[M, field_mask_pb2.FieldMask]:
    """The message holding the changes, and the mask naming them (None clears a field)."""
    values = {field: value for field, value in changes.items() if value is not None}
    return message_type(**values), field_mask_pb2.FieldMask(paths=list(changes))


class InstanceClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = instance_pb2_grpc.InstanceServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def _call(
        self, rpc: Callable[..., Awaitable[T]], request: Message, metadata: Metadata
    ) -> T:
        return await call(rpc, request, metadata=metadata, timeout_seconds=self.timeout_seconds)

    # Instances

    async def list_instances(self, metadata: Metadata) -> list[Instance]:
        request = instance_pb2.ListInstancesRequest()
        reply = await self._call(self._stub.ListInstances, request, metadata)
        return [convert.instance(instance) for instance in reply.instances]

    async def create_instance(
        self, metadata: Metadata, name: str, endpoint: str | None
    ) -> tuple[Instance, str]:
        """The new instance and its instance token (shown this once)."""
        request = instance_pb2.CreateInstanceRequest(name=name, endpoint=endpoint)
        reply = await self._call(self._stub.CreateInstance, request, metadata)
        return convert.instance(reply.instance), reply.instance_token

    async def get_instance(self, metadata: Metadata, instance_id: str) -> Instance:
        request = instance_pb2.GetInstanceRequest(instance_id=instance_id)
        reply = await self._call(self._stub.GetInstance, request, metadata)
        return convert.instance(reply.instance)

    async def update_instance(
        self, metadata: Metadata, instance_id: str, changes: Mapping[str, Any]
    ) -> Instance:
        instance, mask = masked(instance_pb2.Instance, changes)
        request = instance_pb2.UpdateInstanceRequest(
            instance_id=instance_id, instance=instance, update_mask=mask
        )
        reply = await self._call(self._stub.UpdateInstance, request, metadata)
        return convert.instance(reply.instance)

    async def delete_instance(self, metadata: Metadata, instance_id: str) -> None:
        request = instance_pb2.DeleteInstanceRequest(instance_id=instance_id)
        await self._call(self._stub.DeleteInstance, request, metadata)

    # Processing units

    async def list_processing_units(
        self, metadata: Metadata, instance_id: str
    ) -> list[ProcessingUnit]:
        request = instance_pb2.ListProcessingUnitsRequest(instance_id=instance_id)
        reply = await self._call(self._stub.ListProcessingUnits, request, metadata)
        return [convert.processing_unit(unit) for unit in reply.processing_units]

    async def add_processing_unit(
        self, metadata: Metadata, instance_id: str, unit: Mapping[str, Any]
    ) -> ProcessingUnit:
        request = instance_pb2.CreateProcessingUnitRequest(
            instance_id=instance_id, processing_unit=instance_pb2.ProcessingUnit(**unit)
        )
        reply = await self._call(self._stub.CreateProcessingUnit, request, metadata)
        return convert.processing_unit(reply.processing_unit)

    async def update_processing_unit(
        self, metadata: Metadata, instance_id: str, unit_id: str, changes: Mapping[str, Any]
    ) -> ProcessingUnit:
        unit, mask = masked(instance_pb2.ProcessingUnit, changes)
        request = instance_pb2.UpdateProcessingUnitRequest(
            instance_id=instance_id,
            processing_unit_id=unit_id,
            processing_unit=unit,
            update_mask=mask,
        )
        reply = await self._call(self._stub.UpdateProcessingUnit, request, metadata)
        return convert.processing_unit(reply.processing_unit)

    async def delete_processing_unit(
        self, metadata: Metadata, instance_id: str, unit_id: str
    ) -> None:
        request = instance_pb2.DeleteProcessingUnitRequest(
            instance_id=instance_id, processing_unit_id=unit_id
        )
        await self._call(self._stub.DeleteProcessingUnit, request, metadata)

    # Software

    async def list_software(self, metadata: Metadata, instance_id: str) -> list[Software]:
        request = instance_pb2.ListSoftwareRequest(instance_id=instance_id)
        reply = await self._call(self._stub.ListSoftware, request, metadata)
        return [convert.software(item) for item in reply.software]

    async def add_software(
        self, metadata: Metadata, instance_id: str, name: str, version: str
    ) -> Software:
        request = instance_pb2.CreateSoftwareRequest(
            instance_id=instance_id, software=instance_pb2.Software(name=name, version=version)
        )
        reply = await self._call(self._stub.CreateSoftware, request, metadata)
        return convert.software(reply.software)

    async def update_software(
        self, metadata: Metadata, instance_id: str, software_id: str, changes: Mapping[str, Any]
    ) -> Software:
        software, mask = masked(instance_pb2.Software, changes)
        request = instance_pb2.UpdateSoftwareRequest(
            instance_id=instance_id,
            software_id=software_id,
            software=software,
            update_mask=mask,
        )
        reply = await self._call(self._stub.UpdateSoftware, request, metadata)
        return convert.software(reply.software)

    async def delete_software(self, metadata: Metadata, instance_id: str, software_id: str) -> None:
        request = instance_pb2.DeleteSoftwareRequest(
            instance_id=instance_id, software_id=software_id
        )
        await self._call(self._stub.DeleteSoftware, request, metadata)
