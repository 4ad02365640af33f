"""Token Router's instances API: your model-serving instances and their inventory.

Authenticated with the caller's API key; the relay scopes every call to that account,
so another account's instance answers 404 instance_not_found, like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tokenplace.gateway.caller import caller_of
from tokenplace.gateway.instance_client import InstanceClient
from tokenplace.gateway.relay_client import Metadata
from tokenplace.gateway.schemas import ErrorResponse

router = APIRouter(tags=["instances"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 404, 500, 503, 504)
}
INSTANCE = "/instances/{instance_id}"
UNITS = f"{INSTANCE}/processing-units"
SOFTWARE = f"{INSTANCE}/software"

InstanceStatus = Literal["pending", "online", "offline", "disabled"]
UnitKind = Literal["cpu", "gpu", "npu", "tpu", "other"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
Endpoint = Annotated[
    str, StringConstraints(max_length=2000), Field(description="An http(s) URL; blank for none.")
]


def _whole_float_to_int(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer; strict mode alone would reject it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict: "2" and true are not counts.
Count = Annotated[int, Field(ge=1, le=1024, strict=True), BeforeValidator(_whole_float_to_int)]
MemoryBytes = Annotated[
    int, Field(ge=0, le=2**62, strict=True), BeforeValidator(_whole_float_to_int)
]


async def instance_client(request: Request) -> InstanceClient:
    return request.app.state.instances


Instances = Annotated[InstanceClient, Depends(instance_client)]


def _key(request: Request) -> Metadata:
    return caller_of(request).metadata()


def _without_defaults(schema: dict[str, Any]) -> None:
    """A patch leaves out what it does not change: its fields have no default value."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_defaults)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# Instances


class InstanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    endpoint: str | None
    status: InstanceStatus
    created_at: datetime
    updated_at: datetime


class CreatedInstance(InstanceOut):
    instance_token: str = Field(
        description="Start a node with this token to register it as this instance. "
        "Shown only this once: store it now."
    )


class InstanceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[InstanceOut]


class InstanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    endpoint: Endpoint | None = None


class InstancePatch(Patch):
    name: Name | SkipJsonSchema[None] = None
    endpoint: Endpoint | None = None
    status: InstanceStatus | SkipJsonSchema[None] = None


class Deleted(BaseModel):
    id: str
    deleted: Literal[True] = True


@router.get("/instances", response_model=InstanceList, responses=ERRORS)
async def list_instances(request: Request, instances: Instances) -> InstanceList:
    """Your registered instances."""
    found = await instances.list_instances(_key(request))
    return InstanceList(data=[InstanceOut.model_validate(i) for i in found])


@router.post("/instances", status_code=201, response_model=CreatedInstance, responses=ERRORS)
async def create_instance(
    body: InstanceIn, request: Request, instances: Instances
) -> CreatedInstance:
    """Register a model-serving instance; its instance token is in this response only."""
    instance, token = await instances.create_instance(_key(request), body.name, body.endpoint)
    fields = InstanceOut.model_validate(instance).model_dump()
    return CreatedInstance(**fields, instance_token=token)


@router.get(INSTANCE, response_model=InstanceOut, responses=ERRORS)
async def get_instance(instance_id: str, request: Request, instances: Instances) -> InstanceOut:
    """One of your instances."""
    return InstanceOut.model_validate(await instances.get_instance(_key(request), instance_id))


@router.patch(INSTANCE, response_model=InstanceOut, responses=ERRORS)
async def update_instance(
    instance_id: str, body: InstancePatch, request: Request, instances: Instances
) -> InstanceOut:
    """Change an instance's name, endpoint (null clears it) or status."""
    updated = await instances.update_instance(_key(request), instance_id, body.changes())
    return InstanceOut.model_validate(updated)


@router.delete(INSTANCE, response_model=Deleted, responses=ERRORS)
async def delete_instance(instance_id: str, request: Request, instances: Instances) -> Deleted:
    """Remove an instance and its inventory; its instance token stops working."""
    await instances.delete_instance(_key(request), instance_id)
    return Deleted(id=instance_id)


# Processing units


class ProcessingUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: UnitKind
    model: str
    count: int
    memory_bytes: int | None


class ProcessingUnitList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ProcessingUnitOut]


class ProcessingUnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: UnitKind
    model: Name
    count: Count = 1
    memory_bytes: MemoryBytes | None = None


class ProcessingUnitPatch(Patch):
    kind: UnitKind | SkipJsonSchema[None] = None
    model: Name | SkipJsonSchema[None] = None
    count: Count | SkipJsonSchema[None] = None
    memory_bytes: MemoryBytes | None = None


@router.get(UNITS, response_model=ProcessingUnitList, responses=ERRORS)
async def list_processing_units(
    instance_id: str, request: Request, instances: Instances
) -> ProcessingUnitList:
    """The instance's hardware: GPUs, CPUs and other processing units."""
    units = await instances.list_processing_units(_key(request), instance_id)
    return ProcessingUnitList(data=[ProcessingUnitOut.model_validate(u) for u in units])


@router.post(UNITS, status_code=201, response_model=ProcessingUnitOut, responses=ERRORS)
async def add_processing_unit(
    instance_id: str, body: ProcessingUnitIn, request: Request, instances: Instances
) -> ProcessingUnitOut:
    """Add a processing unit to the instance."""
    unit = await instances.add_processing_unit(_key(request), instance_id, body.model_dump())
    return ProcessingUnitOut.model_validate(unit)


@router.patch(f"{UNITS}/{{unit_id}}", response_model=ProcessingUnitOut, responses=ERRORS)
async def update_processing_unit(
    instance_id: str,
    unit_id: str,
    body: ProcessingUnitPatch,
    request: Request,
    instances: Instances,
) -> ProcessingUnitOut:
    """Change a processing unit (memory_bytes null clears it)."""
    unit = await instances.update_processing_unit(
        _key(request), instance_id, unit_id, body.changes()
    )
    return ProcessingUnitOut.model_validate(unit)


@router.delete(f"{UNITS}/{{unit_id}}", response_model=Deleted, responses=ERRORS)
async def delete_processing_unit(
    instance_id: str, unit_id: str, request: Request, instances: Instances
) -> Deleted:
    """Remove a processing unit."""
    await instances.delete_processing_unit(_key(request), instance_id, unit_id)
    return Deleted(id=unit_id)


# Software


class SoftwareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    version: str


class SoftwareList(BaseModel):
    object: Literal["list"] = "list"
    data: list[SoftwareOut]


class SoftwareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    version: Version


class SoftwarePatch(Patch):
    name: Name | SkipJsonSchema[None] = None
    version: Version | SkipJsonSchema[None] = None


@router.get(SOFTWARE, response_model=SoftwareList, responses=ERRORS)
async def list_software(instance_id: str, request: Request, instances: Instances) -> SoftwareList:
    """The instance's software and engine versions."""
    items = await instances.list_software(_key(request), instance_id)
    return SoftwareList(data=[SoftwareOut.model_validate(item) for item in items])


@router.post(SOFTWARE, status_code=201, response_model=SoftwareOut, responses=ERRORS)
async def add_software(
    instance_id: str, body: SoftwareIn, request: Request, instances: Instances
) -> SoftwareOut:
    """Add a software entry to the instance."""
    item = await instances.add_software(_key(request), instance_id, body.name, body.version)
    return SoftwareOut.model_validate(item)


@router.patch(f"{SOFTWARE}/{{software_id}}", response_model=SoftwareOut, responses=ERRORS)
async def update_software(
    instance_id: str,
    software_id: str,
    body: SoftwarePatch,
    request: Request,
    instances: Instances,
) -> SoftwareOut:
    """Change a software entry's name or version."""
    item = await instances.update_software(_key(request), instance_id, software_id, body.changes())
    return SoftwareOut.model_validate(item)


@router.delete(f"{SOFTWARE}/{{software_id}}", response_model=Deleted, responses=ERRORS)
async def delete_software(
    instance_id: str, software_id: str, request: Request, instances: Instances
) -> Deleted:
    """Remove a software entry."""
    await instances.delete_software(_key(request), instance_id, software_id)
    return Deleted(id=software_id)
