"""Requests and responses of Token Router's instances API: instances, their processing
units and software."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

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


def _without_defaults(schema: dict[str, Any]) -> None:
    """A patch leaves out what it does not change: its fields have no default value."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_defaults)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


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
