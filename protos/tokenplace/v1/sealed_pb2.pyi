from tokenplace.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REQUEST_STATE_UNSPECIFIED: _ClassVar[RequestState]
    REQUEST_STATE_QUEUED: _ClassVar[RequestState]
    REQUEST_STATE_RUNNING: _ClassVar[RequestState]
    REQUEST_STATE_COMPLETED: _ClassVar[RequestState]
    REQUEST_STATE_CANCELLED: _ClassVar[RequestState]
    REQUEST_STATE_EXPIRED: _ClassVar[RequestState]
    REQUEST_STATE_LOST: _ClassVar[RequestState]
REQUEST_STATE_UNSPECIFIED: RequestState
REQUEST_STATE_QUEUED: RequestState
REQUEST_STATE_RUNNING: RequestState
REQUEST_STATE_COMPLETED: RequestState
REQUEST_STATE_CANCELLED: RequestState
REQUEST_STATE_EXPIRED: RequestState
REQUEST_STATE_LOST: RequestState

class SubmitSealedRequest(_message.Message):
    __slots__ = ("server_public_key", "envelope", "cancel_token")
    SERVER_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    server_public_key: str
    envelope: _common_pb2.Envelope
    cancel_token: str
    def __init__(self, server_public_key: _Optional[str] = ..., envelope: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., cancel_token: _Optional[str] = ...) -> None: ...

class SubmitSealedResponse(_message.Message):
    __slots__ = ("request_id", "state", "duplicate")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    state: RequestState
    duplicate: bool
    def __init__(self, request_id: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class RetrieveSealedRequest(_message.Message):
    __slots__ = ("client_public_key", "request_id")
    CLIENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    client_public_key: str
    request_id: str
    def __init__(self, client_public_key: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RetrieveSealedResponse(_message.Message):
    __slots__ = ("request_id", "state", "response", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    state: RequestState
    response: _common_pb2.Envelope
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ..., response: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelSealedRequest(_message.Message):
    __slots__ = ("client_public_key", "request_id", "cancel_token")
    CLIENT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    client_public_key: str
    request_id: str
    cancel_token: str
    def __init__(self, client_public_key: _Optional[str] = ..., request_id: _Optional[str] = ..., cancel_token: _Optional[str] = ...) -> None: ...

class CancelSealedResponse(_message.Message):
    __slots__ = ("request_id", "state")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    state: RequestState
    def __init__(self, request_id: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ...) -> None: ...
