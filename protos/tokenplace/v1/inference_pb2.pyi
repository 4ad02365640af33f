import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from tokenplace.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServedModel(_message.Message):
    __slots__ = ("card", "node_count", "free_slots")
    CARD_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    card: _common_pb2.ModelCard
    node_count: int
    free_slots: int
    def __init__(self, card: _Optional[_Union[_common_pb2.ModelCard, _Mapping]] = ..., node_count: _Optional[int] = ..., free_slots: _Optional[int] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ServedModel]
    def __init__(self, models: _Optional[_Iterable[_Union[ServedModel, _Mapping]]] = ...) -> None: ...

class SelectNodeRequest(_message.Message):
    __slots__ = ("model", "exclude_node_ids")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    model: str
    exclude_node_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., exclude_node_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SelectNodeResponse(_message.Message):
    __slots__ = ("node_id", "public_key")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    public_key: str
    def __init__(self, node_id: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class NodeAddress(_message.Message):
    __slots__ = ("node_id", "public_key")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    public_key: str
    def __init__(self, node_id: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class DispatchRequest(_message.Message):
    __slots__ = ("node_id", "model", "envelope", "server_public_key")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    SERVER_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    model: str
    envelope: _common_pb2.Envelope
    server_public_key: str
    def __init__(self, node_id: _Optional[str] = ..., model: _Optional[str] = ..., envelope: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., server_public_key: _Optional[str] = ...) -> None: ...

class DispatchResponse(_message.Message):
    __slots__ = ("response", "usage", "node_id", "next_node")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_NODE_FIELD_NUMBER: _ClassVar[int]
    response: _common_pb2.Envelope
    usage: _common_pb2.Usage
    node_id: str
    next_node: NodeAddress
    def __init__(self, response: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., node_id: _Optional[str] = ..., next_node: _Optional[_Union[NodeAddress, _Mapping]] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("client_public_key", "request_id")
    CLIENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    client_public_key: str
    request_id: str
    def __init__(self, client_public_key: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ("cancelled",)
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    cancelled: bool
    def __init__(self, cancelled: _Optional[bool] = ...) -> None: ...

class DispatchStreamRequest(_message.Message):
    __slots__ = ("call_id", "dispatch", "cancel")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    dispatch: StreamedDispatch
    cancel: StreamedCancel
    def __init__(self, call_id: _Optional[int] = ..., dispatch: _Optional[_Union[StreamedDispatch, _Mapping]] = ..., cancel: _Optional[_Union[StreamedCancel, _Mapping]] = ...) -> None: ...

class StreamedDispatch(_message.Message):
    __slots__ = ("request", "timeout", "metadata")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    request: DispatchRequest
    timeout: _duration_pb2.Duration
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    def __init__(self, request: _Optional[_Union[DispatchRequest, _Mapping]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ...) -> None: ...

class MetadataEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class StreamedCancel(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DispatchStreamResponse(_message.Message):
    __slots__ = ("call_id", "response", "error")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    response: DispatchResponse
    error: CallError
    def __init__(self, call_id: _Optional[int] = ..., response: _Optional[_Union[DispatchResponse, _Mapping]] = ..., error: _Optional[_Union[CallError, _Mapping]] = ...) -> None: ...

class CallError(_message.Message):
    __slots__ = ("code", "message", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    details: _containers.RepeatedCompositeFieldContainer[_any_pb2.Any]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[_Iterable[_Union[_any_pb2.Any, _Mapping]]] = ...) -> None: ...
