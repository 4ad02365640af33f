import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Instance(_message.Message):
    __slots__ = ("id", "name", "endpoint", "status", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    endpoint: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., endpoint: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProcessingUnit(_message.Message):
    __slots__ = ("id", "kind", "model", "count", "memory_bytes")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    model: str
    count: int
    memory_bytes: int
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., model: _Optional[str] = ..., count: _Optional[int] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class Software(_message.Message):
    __slots__ = ("id", "name", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ListInstancesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListInstancesResponse(_message.Message):
    __slots__ = ("instances",)
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    def __init__(self, instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ...) -> None: ...

class CreateInstanceRequest(_message.Message):
    __slots__ = ("name", "endpoint")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    name: str
    endpoint: str
    def __init__(self, name: _Optional[str] = ..., endpoint: _Optional[str] = ...) -> None: ...

class CreateInstanceResponse(_message.Message):
    __slots__ = ("instance", "instance_token")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    instance_token: str
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., instance_token: _Optional[str] = ...) -> None: ...

class GetInstanceRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class GetInstanceResponse(_message.Message):
    __slots__ = ("instance",)
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class UpdateInstanceRequest(_message.Message):
    __slots__ = ("instance_id", "instance", "update_mask")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    instance: Instance
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, instance_id: _Optional[str] = ..., instance: _Optional[_Union[Instance, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateInstanceResponse(_message.Message):
    __slots__ = ("instance",)
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class DeleteInstanceRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class DeleteInstanceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateInstanceTokenRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class RotateInstanceTokenResponse(_message.Message):
    __slots__ = ("instance_token",)
    INSTANCE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instance_token: str
    def __init__(self, instance_token: _Optional[str] = ...) -> None: ...

class ListProcessingUnitsRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class ListProcessingUnitsResponse(_message.Message):
    __slots__ = ("processing_units",)
    PROCESSING_UNITS_FIELD_NUMBER: _ClassVar[int]
    processing_units: _containers.RepeatedCompositeFieldContainer[ProcessingUnit]
    def __init__(self, processing_units: _Optional[_Iterable[_Union[ProcessingUnit, _Mapping]]] = ...) -> None: ...

class CreateProcessingUnitRequest(_message.Message):
    __slots__ = ("instance_id", "processing_unit")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_UNIT_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    processing_unit: ProcessingUnit
    def __init__(self, instance_id: _Optional[str] = ..., processing_unit: _Optional[_Union[ProcessingUnit, _Mapping]] = ...) -> None: ...

class CreateProcessingUnitResponse(_message.Message):
    __slots__ = ("processing_unit",)
    PROCESSING_UNIT_FIELD_NUMBER: _ClassVar[int]
    processing_unit: ProcessingUnit
    def __init__(self, processing_unit: _Optional[_Union[ProcessingUnit, _Mapping]] = ...) -> None: ...

class UpdateProcessingUnitRequest(_message.Message):
    __slots__ = ("instance_id", "processing_unit_id", "processing_unit", "update_mask")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_UNIT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    processing_unit_id: str
    processing_unit: ProcessingUnit
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, instance_id: _Optional[str] = ..., processing_unit_id: _Optional[str] = ..., processing_unit: _Optional[_Union[ProcessingUnit, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProcessingUnitResponse(_message.Message):
    __slots__ = ("processing_unit",)
    PROCESSING_UNIT_FIELD_NUMBER: _ClassVar[int]
    processing_unit: ProcessingUnit
    def __init__(self, processing_unit: _Optional[_Union[ProcessingUnit, _Mapping]] = ...) -> None: ...

class DeleteProcessingUnitRequest(_message.Message):
    __slots__ = ("instance_id", "processing_unit_id")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    processing_unit_id: str
    def __init__(self, instance_id: _Optional[str] = ..., processing_unit_id: _Optional[str] = ...) -> None: ...

class DeleteProcessingUnitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSoftwareRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class ListSoftwareResponse(_message.Message):
    __slots__ = ("software",)
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    software: _containers.RepeatedCompositeFieldContainer[Software]
    def __init__(self, software: _Optional[_Iterable[_Union[Software, _Mapping]]] = ...) -> None: ...

class CreateSoftwareRequest(_message.Message):
    __slots__ = ("instance_id", "software")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    software: Software
    def __init__(self, instance_id: _Optional[str] = ..., software: _Optional[_Union[Software, _Mapping]] = ...) -> None: ...

class CreateSoftwareResponse(_message.Message):
    __slots__ = ("software",)
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    software: Software
    def __init__(self, software: _Optional[_Union[Software, _Mapping]] = ...) -> None: ...

class UpdateSoftwareRequest(_message.Message):
    __slots__ = ("instance_id", "software_id", "software", "update_mask")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_ID_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    software_id: str
    software: Software
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, instance_id: _Optional[str] = ..., software_id: _Optional[str] = ..., software: _Optional[_Union[Software, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateSoftwareResponse(_message.Message):
    __slots__ = ("software",)
    SOFTWARE_FIELD_NUMBER: _ClassVar[int]
    software: Software
    def __init__(self, software: _Optional[_Union[Software, _Mapping]] = ...) -> None: ...

class DeleteSoftwareRequest(_message.Message):
    __slots__ = ("instance_id", "software_id")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    software_id: str
    def __init__(self, instance_id: _Optional[str] = ..., software_id: _Optional[str] = ...) -> None: ...

class DeleteSoftwareResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
