"""InstanceService: a caller's Token Router instances and their inventory, by API key.

Every RPC authenticates the bearer key in the metadata (as AccountService does) and acts
on that account only; the domain code (relay/instances.py, relay/inventory.py) makes
another account's instance indistinguishable from a missing one.
"""

from __future__ import annotations

import grpc

from tokenplace.relay.accounts.keys import Account, Accounts
from tokenplace.relay.instances import Instances
from tokenplace.relay.inventory import (
    Inventory,
    SoftwareSpec,
)
from tokenplace.relay.services import convert
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


class InstanceServicer(instance_pb2_grpc.InstanceServiceServicer):
    def __init__(self, accounts: Accounts, instances: Instances, inventory: Inventory) -> None:
        self.accounts = accounts
        self.instances = instances
        self.inventory = inventory

    async def _account_id(self, context: grpc.aio.ServicerContext) -> str:
        return (await authenticated_account(self.accounts, context)).id

    # Instances

    @translate_errors
    async def ListInstances(
        self,
        request: instance_pb2.ListInstancesRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.ListInstancesRequest, instance_pb2.ListInstancesResponse
        ],
    ) -> instance_pb2.ListInstancesResponse:
        found = await self.instances.list_instances(await self._account_id(context))
        return instance_pb2.ListInstancesResponse(
            instances=[convert.instance_to_pb(i) for i in found]
        )

    @translate_errors
    async def CreateInstance(
        self,
        request: instance_pb2.CreateInstanceRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.CreateInstanceRequest, instance_pb2.CreateInstanceResponse
        ],
    ) -> instance_pb2.CreateInstanceResponse:
        account_id = await self._account_id(context)
        endpoint = request.endpoint if request.HasField("endpoint") else None
        created = await self.instances.create_instance(account_id, request.name, endpoint)
        return instance_pb2.CreateInstanceResponse(
            instance=convert.instance_to_pb(created.instance), instance_token=created.token
        )

    @translate_errors
    async def GetInstance(
        self,
        request: instance_pb2.GetInstanceRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.GetInstanceRequest, instance_pb2.GetInstanceResponse
        ],
    ) -> instance_pb2.GetInstanceResponse:
        account_id = await self._account_id(context)
        instance = await self.instances.get_instance(account_id, request.instance_id)
        return instance_pb2.GetInstanceResponse(instance=convert.instance_to_pb(instance))

    @translate_errors
    async def UpdateInstance(
        self,
        request: instance_pb2.UpdateInstanceRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.UpdateInstanceRequest, instance_pb2.UpdateInstanceResponse
        ],
    ) -> instance_pb2.UpdateInstanceResponse:
        account_id = await self._account_id(context)
        changes = convert.masked_changes(request.instance, request.update_mask, INSTANCE_FIELDS)
        instance = await self.instances.update_instance(account_id, request.instance_id, **changes)
        return instance_pb2.UpdateInstanceResponse(instance=convert.instance_to_pb(instance))

    @translate_errors
    async def DeleteInstance(
        self,
        request: instance_pb2.DeleteInstanceRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.DeleteInstanceRequest, instance_pb2.DeleteInstanceResponse
        ],
    ) -> instance_pb2.DeleteInstanceResponse:
        account_id = await self._account_id(context)
        await self.instances.delete_instance(account_id, request.instance_id)
        return instance_pb2.DeleteInstanceResponse()

    @translate_errors
    async def RotateInstanceToken(
        self,
        request: instance_pb2.RotateInstanceTokenRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.RotateInstanceTokenRequest, instance_pb2.RotateInstanceTokenResponse
        ],
    ) -> instance_pb2.RotateInstanceTokenResponse:
        account_id = await self._account_id(context)
        token = await self.instances.rotate_token(account_id, request.instance_id)
        return instance_pb2.RotateInstanceTokenResponse(instance_token=token)

    # Processing units

    @translate_errors
    async def ListProcessingUnits(
        self,
        request: instance_pb2.ListProcessingUnitsRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.ListProcessingUnitsRequest, instance_pb2.ListProcessingUnitsResponse
        ],
    ) -> instance_pb2.ListProcessingUnitsResponse:
        account_id = await self._account_id(context)
        units = await self.inventory.list_processing_units(account_id, request.instance_id)
        return instance_pb2.ListProcessingUnitsResponse(
            processing_units=[convert.processing_unit_to_pb(unit) for unit in units]
        )

    @translate_errors
    async def CreateProcessingUnit(
        self,
        request: instance_pb2.CreateProcessingUnitRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.CreateProcessingUnitRequest, instance_pb2.CreateProcessingUnitResponse
        ],
    ) -> instance_pb2.CreateProcessingUnitResponse:
        account_id = await self._account_id(context)
        unit = await self.inventory.add_processing_unit(
            account_id,
            request.instance_id,
            convert.processing_unit_from_pb(request.processing_unit),
        )
        return instance_pb2.CreateProcessingUnitResponse(
            processing_unit=convert.processing_unit_to_pb(unit)
        )

    @translate_errors
    async def UpdateProcessingUnit(
        self,
        request: instance_pb2.UpdateProcessingUnitRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.UpdateProcessingUnitRequest, instance_pb2.UpdateProcessingUnitResponse
        ],
    ) -> instance_pb2.UpdateProcessingUnitResponse:
        account_id = await self._account_id(context)
        changes = convert.masked_changes(
            request.processing_unit, request.update_mask, PROCESSING_UNIT_FIELDS
        )
        unit = await self.inventory.update_processing_unit(
            account_id, request.instance_id, request.processing_unit_id, **changes
        )
        return instance_pb2.UpdateProcessingUnitResponse(
            processing_unit=convert.processing_unit_to_pb(unit)
        )

    @translate_errors
    async def DeleteProcessingUnit(
        self,
        request: instance_pb2.DeleteProcessingUnitRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.DeleteProcessingUnitRequest, instance_pb2.DeleteProcessingUnitResponse
        ],
    ) -> instance_pb2.DeleteProcessingUnitResponse:
        account_id = await self._account_id(context)
        await self.inventory.delete_processing_unit(
            account_id, request.instance_id, request.processing_unit_id
        )
        return instance_pb2.DeleteProcessingUnitResponse()

    # Software

    @translate_errors
    async def ListSoftware(
        self,
        request: instance_pb2.ListSoftwareRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.ListSoftwareRequest, instance_pb2.ListSoftwareResponse
        ],
    ) -> instance_pb2.ListSoftwareResponse:
        account_id = await self._account_id(context)
        items = await self.inventory.list_software(account_id, request.instance_id)
        return instance_pb2.ListSoftwareResponse(
            software=[convert.software_to_pb(item) for item in items]
        )

    @translate_errors
    async def CreateSoftware(
        self,
        request: instance_pb2.CreateSoftwareRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.CreateSoftwareRequest, instance_pb2.CreateSoftwareResponse
        ],
    ) -> instance_pb2.CreateSoftwareResponse:
        account_id = await self._account_id(context)
        spec = SoftwareSpec(request.software.name, request.software.version)
        item = await self.inventory.add_software(account_id, request.instance_id, spec)
        return instance_pb2.CreateSoftwareResponse(software=convert.software_to_pb(item))

    @translate_errors
    async def UpdateSoftware(
        self,
        request: instance_pb2.UpdateSoftwareRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.UpdateSoftwareRequest, instance_pb2.UpdateSoftwareResponse
        ],
    ) -> instance_pb2.UpdateSoftwareResponse:
        account_id = await self._account_id(context)
        changes = convert.masked_changes(request.software, request.update_mask, SOFTWARE_FIELDS)
        item = await self.inventory.update_software(
            account_id, request.instance_id, request.software_id, **changes
        )
        return instance_pb2.UpdateSoftwareResponse(software=convert.software_to_pb(item))

    @translate_errors
    async def DeleteSoftware(
        self,
        request: instance_pb2.DeleteSoftwareRequest,
        context: grpc.aio.ServicerContext[
            instance_pb2.DeleteSoftwareRequest, instance_pb2.DeleteSoftwareResponse
        ],
    ) -> instance_pb2.DeleteSoftwareResponse:
        account_id = await self._account_id(context)
        await self.inventory.delete_software(account_id, request.instance_id, request.software_id)
        return instance_pb2.DeleteSoftwareResponse()
