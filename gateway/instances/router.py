"""Token Router's instances API: your model-serving instances and their inventory.

Authenticated with the caller's API key; the relay scopes every call to that account,
so another account's instance answers 404 instance_not_found, like a missing one.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from tokenplace.client.metadata import Metadata
from tokenplace.gateway.callers import caller_of
from tokenplace.gateway.instances.protocol import (
    CreatedInstance,
    Deleted,
    InstanceIn,
    InstanceList,
    InstanceOut,
    InstancePatch,
    ProcessingUnitIn,
    ProcessingUnitList,
    ProcessingUnitOut,
    ProcessingUnitPatch,
    SoftwareIn,
    SoftwareList,
    SoftwareOut,
    SoftwarePatch,
)
from tokenplace.gateway.mounting import API, mount
from tokenplace.gateway.openapi import error_responses
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["instances"])
ERRORS = error_responses(400, 401, 404, 500, 503, 504)
INSTANCE = "/instances/{instance_id}"
UNITS = f"{INSTANCE}/processing-units"
SOFTWARE = f"{INSTANCE}/software"


def attach(app: FastAPI) -> None:
    mount(app, router, API)


def _key(request: Request) -> Metadata:
    return caller_of(request).metadata()


# Instances


@router.get("/instances", response_model=InstanceList, responses=ERRORS)
async def list_instances(request: Request, services: ServicesDep) -> InstanceList:
    """Your registered instances."""
    found = await services.relay.instances.list_instances(_key(request))
    return InstanceList(data=[InstanceOut.model_validate(i) for i in found])


@router.post("/instances", status_code=201, response_model=CreatedInstance, responses=ERRORS)
async def create_instance(
    body: InstanceIn, request: Request, services: ServicesDep
) -> CreatedInstance:
    """Register a model-serving instance; its instance token is in this response only."""
    instance, token = await services.relay.instances.create_instance(
        _key(request), body.name, body.endpoint
    )
    fields = InstanceOut.model_validate(instance).model_dump()
    return CreatedInstance(**fields, instance_token=token)


@router.get(INSTANCE, response_model=InstanceOut, responses=ERRORS)
async def get_instance(instance_id: str, request: Request, services: ServicesDep) -> InstanceOut:
    """One of your instances."""
    return InstanceOut.model_validate(
        await services.relay.instances.get_instance(_key(request), instance_id)
    )


@router.patch(INSTANCE, response_model=InstanceOut, responses=ERRORS)
async def update_instance(
    instance_id: str, body: InstancePatch, request: Request, services: ServicesDep
) -> InstanceOut:
    """Change an instance's name, endpoint (null clears it) or status."""
    updated = await services.relay.instances.update_instance(
        _key(request), instance_id, body.changes()
    )
    return InstanceOut.model_validate(updated)


@router.delete(INSTANCE, response_model=Deleted, responses=ERRORS)
async def delete_instance(instance_id: str, request: Request, services: ServicesDep) -> Deleted:
    """Remove an instance and its inventory; its instance token stops working."""
    await services.relay.instances.delete_instance(_key(request), instance_id)
    return Deleted(id=instance_id)


# Processing units


@router.get(UNITS, response_model=ProcessingUnitList, responses=ERRORS)
async def list_processing_units(
    instance_id: str, request: Request, services: ServicesDep
) -> ProcessingUnitList:
    """The instance's hardware: GPUs, CPUs and other processing units."""
    units = await services.relay.instances.list_processing_units(_key(request), instance_id)
    return ProcessingUnitList(data=[ProcessingUnitOut.model_validate(u) for u in units])


@router.post(UNITS, status_code=201, response_model=ProcessingUnitOut, responses=ERRORS)
async def add_processing_unit(
    instance_id: str, body: ProcessingUnitIn, request: Request, services: ServicesDep
) -> ProcessingUnitOut:
    """Add a processing unit to the instance."""
    unit = await services.relay.instances.add_processing_unit(
        _key(request), instance_id, body.model_dump()
    )
    return ProcessingUnitOut.model_validate(unit)


@router.patch(f"{UNITS}/{{unit_id}}", response_model=ProcessingUnitOut, responses=ERRORS)
async def update_processing_unit(
    instance_id: str,
    unit_id: str,
    body: ProcessingUnitPatch,
    request: Request,
    services: ServicesDep,
) -> ProcessingUnitOut:
    """Change a processing unit (memory_bytes null clears it)."""
    unit = await services.relay.instances.update_processing_unit(
        _key(request), instance_id, unit_id, body.changes()
    )
    return ProcessingUnitOut.model_validate(unit)


@router.delete(f"{UNITS}/{{unit_id}}", response_model=Deleted, responses=ERRORS)
async def delete_processing_unit(
    instance_id: str, unit_id: str, request: Request, services: ServicesDep
) -> Deleted:
    """Remove a processing unit."""
    await services.relay.instances.delete_processing_unit(_key(request), instance_id, unit_id)
    return Deleted(id=unit_id)


# Software


@router.get(SOFTWARE, response_model=SoftwareList, responses=ERRORS)
async def list_software(instance_id: str, request: Request, services: ServicesDep) -> SoftwareList:
    """The instance's software and engine versions."""
    items = await services.relay.instances.list_software(_key(request), instance_id)
    return SoftwareList(data=[SoftwareOut.model_validate(item) for item in items])


@router.post(SOFTWARE, status_code=201, response_model=SoftwareOut, responses=ERRORS)
async def add_software(
    instance_id: str, body: SoftwareIn, request: Request, services: ServicesDep
) -> SoftwareOut:
    """Add a software entry to the instance."""
    item = await services.relay.instances.add_software(
        _key(request), instance_id, body.name, body.version
    )
    return SoftwareOut.model_validate(item)


@router.patch(f"{SOFTWARE}/{{software_id}}", response_model=SoftwareOut, responses=ERRORS)
async def update_software(
    instance_id: str,
    software_id: str,
    body: SoftwarePatch,
    request: Request,
    services: ServicesDep,
) -> SoftwareOut:
    """Change a software entry's name or version."""
    item = await services.relay.instances.update_software(
        _key(request), instance_id, software_id, body.changes()
    )
    return SoftwareOut.model_validate(item)


@router.delete(f"{SOFTWARE}/{{software_id}}", response_model=Deleted, responses=ERRORS)
async def delete_software(
    instance_id: str, software_id: str, request: Request, services: ServicesDep
) -> Deleted:
    """Remove a software entry."""
    await services.relay.instances.delete_software(_key(request), instance_id, software_id)
    return Deleted(id=software_id)
