import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tokenplace.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_REASON_UNSPECIFIED: _ClassVar[FailureReason]
    FAILURE_REASON_BAD_ENVELOPE: _ClassVar[FailureReason]
    FAILURE_REASON_UNKNOWN_MODEL: _ClassVar[FailureReason]
    FAILURE_REASON_ENGINE_ERROR: _ClassVar[FailureReason]
    FAILURE_REASON_CANCELLED: _ClassVar[FailureReason]
    FAILURE_REASON_BUSY: _ClassVar[FailureReason]
FAILURE_REASON_UNSPECIFIED: FailureReason
FAILURE_REASON_BAD_ENVELOPE: FailureReason
FAILURE_REASON_UNKNOWN_MODEL: FailureReason
FAILURE_REASON_ENGINE_ERROR: FailureReason
FAILURE_REASON_CANCELLED: FailureReason
FAILURE_REASON_BUSY: FailureReason

class ConnectRequest(_message.Message):
    __slots__ = ("register", "heartbeat", "job_accepted", "job_result")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    JOB_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    JOB_RESULT_FIELD_NUMBER: _ClassVar[int]
    register: Register
    heartbeat: Heartbeat
    job_accepted: JobAccepted
    job_result: JobResult
    def __init__(self, register: _Optional[_Union[Register, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., job_accepted: _Optional[_Union[JobAccepted, _Mapping]] = ..., job_result: _Optional[_Union[JobResult, _Mapping]] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ("challenge", "registered", "job", "cancel_job", "drain")
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    CANCEL_JOB_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    challenge: Challenge
    registered: Registered
    job: Job
    cancel_job: CancelJob
    drain: Drain
    def __init__(self, challenge: _Optional[_Union[Challenge, _Mapping]] = ..., registered: _Optional[_Union[Registered, _Mapping]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., cancel_job: _Optional[_Union[CancelJob, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ...) -> None: ...

class Challenge(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: bytes
    def __init__(self, nonce: _Optional[bytes] = ...) -> None: ...

class Register(_message.Message):
    __slots__ = ("public_key", "nonce_signature", "models", "slots", "inventory", "display_name", "instance_token", "join_token")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NONCE_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOIN_TOKEN_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    nonce_signature: bytes
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelCard]
    slots: int
    inventory: _common_pb2.NodeInventory
    display_name: str
    instance_token: str
    join_token: str
    def __init__(self, public_key: _Optional[str] = ..., nonce_signature: _Optional[bytes] = ..., models: _Optional[_Iterable[_Union[_common_pb2.ModelCard, _Mapping]]] = ..., slots: _Optional[int] = ..., inventory: _Optional[_Union[_common_pb2.NodeInventory, _Mapping]] = ..., display_name: _Optional[str] = ..., instance_token: _Optional[str] = ..., join_token: _Optional[str] = ...) -> None: ...

class Registered(_message.Message):
    __slots__ = ("node_id", "heartbeat_interval_seconds")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    heartbeat_interval_seconds: int
    def __init__(self, node_id: _Optional[str] = ..., heartbeat_interval_seconds: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("active_jobs",)
    ACTIVE_JOBS_FIELD_NUMBER: _ClassVar[int]
    active_jobs: int
    def __init__(self, active_jobs: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "model", "envelope", "deadline", "report_start")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    REPORT_START_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: str
    envelope: _common_pb2.Envelope
    deadline: _timestamp_pb2.Timestamp
    report_start: bool
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[str] = ..., envelope: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_start: _Optional[bool] = ...) -> None: ...

class JobAccepted(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobFailure(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: FailureReason
    message: str
    def __init__(self, reason: _Optional[_Union[FailureReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("job_id", "response", "failure", "usage")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    response: _common_pb2.Envelope
    failure: JobFailure
    usage: _common_pb2.Usage
    def __init__(self, job_id: _Optional[str] = ..., response: _Optional[_Union[_common_pb2.Envelope, _Mapping]] = ..., failure: _Optional[_Union[JobFailure, _Mapping]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ...) -> None: ...

class CancelJob(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ("grace_seconds",)
    GRACE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    grace_seconds: int
    def __init__(self, grace_seconds: _Optional[int] = ...) -> None: ...
