from tokenplace.v1 import common_pb2 as _common_pb2
from tokenplace.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterPollingNodeRequest(_message.Message):
    __slots__ = ("public_key", "models", "slots", "inventory", "display_name", "credential", "join_token")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    JOIN_TOKEN_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelCard]
    slots: int
    inventory: _common_pb2.NodeInventory
    display_name: str
    credential: str
    join_token: str
    def __init__(self, public_key: _Optional[str] = ..., models: _Optional[_Iterable[_Union[_common_pb2.ModelCard, _Mapping]]] = ..., slots: _Optional[int] = ..., inventory: _Optional[_Union[_common_pb2.NodeInventory, _Mapping]] = ..., display_name: _Optional[str] = ..., credential: _Optional[str] = ..., join_token: _Optional[str] = ...) -> None: ...

class RegisterPollingNodeResponse(_message.Message):
    __slots__ = ("node_id", "sealed_credential", "lease_seconds", "poll_wait_seconds")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SEALED_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    POLL_WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    sealed_credential: _common_pb2.Envelope
    lease_seconds: int
    poll_wait_seconds: int
    def __init__(self, node_id: _Optional[str] = ..., sealed_credential: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., lease_seconds: _Optional[int] = ..., poll_wait_seconds: _Optional[int] = ...) -> None: ...

class UnregisterPollingNodeRequest(_message.Message):
    __slots__ = ("public_key", "credential")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    credential: str
    def __init__(self, public_key: _Optional[str] = ..., credential: _Optional[str] = ...) -> None: ...

class UnregisterPollingNodeResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...

class PollJobRequest(_message.Message):
    __slots__ = ("public_key", "credential", "wait_seconds")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    credential: str
    wait_seconds: int
    def __init__(self, public_key: _Optional[str] = ..., credential: _Optional[str] = ..., wait_seconds: _Optional[int] = ...) -> None: ...

class PollJobResponse(_message.Message):
    __slots__ = ("job", "cancelled_job_ids", "lease_seconds")
    JOB_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    job: _node_pb2.Job
    cancelled_job_ids: _containers.RepeatedScalarFieldContainer[str]
    lease_seconds: int
    def __init__(self, job: _Optional[_Union[_node_pb2.Job, _Mapping]] = ..., cancelled_job_ids: _Optional[_Iterable[str]] = ..., lease_seconds: _Optional[int] = ...) -> None: ...

class SubmitJobResultRequest(_message.Message):
    __slots__ = ("public_key", "credential", "result")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    credential: str
    result: _node_pb2.JobResult
    def __init__(self, public_key: _Optional[str] = ..., credential: _Optional[str] = ..., result: _Optional[_Union[_node_pb2.JobResult, _Mapping]] = ...) -> None: ...

class SubmitJobResultResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    def __init__(self, accepted: _Optional[bool] = ...) -> None: ...
