import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tokenplace.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobOutcomeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_OUTCOME_KIND_UNSPECIFIED: _ClassVar[JobOutcomeKind]
    JOB_OUTCOME_KIND_COMPLETED: _ClassVar[JobOutcomeKind]
    JOB_OUTCOME_KIND_FAILED: _ClassVar[JobOutcomeKind]
    JOB_OUTCOME_KIND_CANCELLED: _ClassVar[JobOutcomeKind]
    JOB_OUTCOME_KIND_NODE_LOST: _ClassVar[JobOutcomeKind]
    JOB_OUTCOME_KIND_DEADLINE_EXCEEDED: _ClassVar[JobOutcomeKind]
JOB_OUTCOME_KIND_UNSPECIFIED: JobOutcomeKind
JOB_OUTCOME_KIND_COMPLETED: JobOutcomeKind
JOB_OUTCOME_KIND_FAILED: JobOutcomeKind
JOB_OUTCOME_KIND_CANCELLED: JobOutcomeKind
JOB_OUTCOME_KIND_NODE_LOST: JobOutcomeKind
JOB_OUTCOME_KIND_DEADLINE_EXCEEDED: JobOutcomeKind

class NodeStatus(_message.Message):
    __slots__ = ("node_id", "display_name", "transport", "peer", "models", "slots", "slots_in_use", "queued_jobs", "connected_at", "last_seen", "online", "connected", "draining", "inventory", "jobs_completed", "jobs_failed", "tokens_generated")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_IN_USE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_JOBS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_GENERATED_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    display_name: str
    transport: str
    peer: str
    models: _containers.RepeatedScalarFieldContainer[str]
    slots: int
    slots_in_use: int
    queued_jobs: int
    connected_at: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    online: bool
    connected: bool
    draining: bool
    inventory: _common_pb2.NodeInventory
    jobs_completed: int
    jobs_failed: int
    tokens_generated: int
    def __init__(self, node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., transport: _Optional[str] = ..., peer: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., slots: _Optional[int] = ..., slots_in_use: _Optional[int] = ..., queued_jobs: _Optional[int] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., online: _Optional[bool] = ..., connected: _Optional[bool] = ..., draining: _Optional[bool] = ..., inventory: _Optional[_Union[_common_pb2.NodeInventory, _Mapping]] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., tokens_generated: _Optional[int] = ...) -> None: ...

class RelayStatus(_message.Message):
    __slots__ = ("relay_id", "address", "version", "started_at", "last_seen", "online")
    RELAY_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    relay_id: str
    address: str
    version: str
    started_at: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    online: bool
    def __init__(self, relay_id: _Optional[str] = ..., address: _Optional[str] = ..., version: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., online: _Optional[bool] = ...) -> None: ...

class ClusterStats(_message.Message):
    __slots__ = ("workers_online", "workers_total", "federated_online", "federated_total", "slots_total", "slots_busy", "queued_jobs", "models_served", "jobs_dispatched", "jobs_completed", "jobs_failed", "tokens_generated", "online_window")
    WORKERS_ONLINE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FEDERATED_ONLINE_FIELD_NUMBER: _ClassVar[int]
    FEDERATED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SLOTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SLOTS_BUSY_FIELD_NUMBER: _ClassVar[int]
    QUEUED_JOBS_FIELD_NUMBER: _ClassVar[int]
    MODELS_SERVED_FIELD_NUMBER: _ClassVar[int]
    JOBS_DISPATCHED_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_GENERATED_FIELD_NUMBER: _ClassVar[int]
    ONLINE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    workers_online: int
    workers_total: int
    federated_online: int
    federated_total: int
    slots_total: int
    slots_busy: int
    queued_jobs: int
    models_served: int
    jobs_dispatched: int
    jobs_completed: int
    jobs_failed: int
    tokens_generated: int
    online_window: _duration_pb2.Duration
    def __init__(self, workers_online: _Optional[int] = ..., workers_total: _Optional[int] = ..., federated_online: _Optional[int] = ..., federated_total: _Optional[int] = ..., slots_total: _Optional[int] = ..., slots_busy: _Optional[int] = ..., queued_jobs: _Optional[int] = ..., models_served: _Optional[int] = ..., jobs_dispatched: _Optional[int] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., tokens_generated: _Optional[int] = ..., online_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListNodesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListNodesResponse(_message.Message):
    __slots__ = ("nodes", "online_window")
    NODES_FIELD_NUMBER: _ClassVar[int]
    ONLINE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    online_window: _duration_pb2.Duration
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ..., online_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListRelaysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRelaysResponse(_message.Message):
    __slots__ = ("relays",)
    RELAYS_FIELD_NUMBER: _ClassVar[int]
    relays: _containers.RepeatedCompositeFieldContainer[RelayStatus]
    def __init__(self, relays: _Optional[_Iterable[_Union[RelayStatus, _Mapping]]] = ...) -> None: ...

class GetClusterStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetClusterStatsResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: ClusterStats
    def __init__(self, stats: _Optional[_Union[ClusterStats, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: MonitoringEvent
    def __init__(self, event: _Optional[_Union[MonitoringEvent, _Mapping]] = ...) -> None: ...

class GetJoinTokenRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJoinTokenResponse(_message.Message):
    __slots__ = ("join_token",)
    JOIN_TOKEN_FIELD_NUMBER: _ClassVar[int]
    join_token: str
    def __init__(self, join_token: _Optional[str] = ...) -> None: ...

class MonitoringEvent(_message.Message):
    __slots__ = ("time", "node_joined", "node_left", "node_offline", "node_online", "job_dispatched", "job_finished")
    TIME_FIELD_NUMBER: _ClassVar[int]
    NODE_JOINED_FIELD_NUMBER: _ClassVar[int]
    NODE_LEFT_FIELD_NUMBER: _ClassVar[int]
    NODE_OFFLINE_FIELD_NUMBER: _ClassVar[int]
    NODE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    JOB_DISPATCHED_FIELD_NUMBER: _ClassVar[int]
    JOB_FINISHED_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    node_joined: NodeJoined
    node_left: NodeLeft
    node_offline: NodeOffline
    node_online: NodeOnline
    job_dispatched: JobDispatched
    job_finished: JobFinished
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., node_joined: _Optional[_Union[NodeJoined, _Mapping]] = ..., node_left: _Optional[_Union[NodeLeft, _Mapping]] = ..., node_offline: _Optional[_Union[NodeOffline, _Mapping]] = ..., node_online: _Optional[_Union[NodeOnline, _Mapping]] = ..., job_dispatched: _Optional[_Union[JobDispatched, _Mapping]] = ..., job_finished: _Optional[_Union[JobFinished, _Mapping]] = ...) -> None: ...

class NodeJoined(_message.Message):
    __slots__ = ("node_id", "display_name", "models", "slots", "transport")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    display_name: str
    models: _containers.RepeatedScalarFieldContainer[str]
    slots: int
    transport: str
    def __init__(self, node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., slots: _Optional[int] = ..., transport: _Optional[str] = ...) -> None: ...

class NodeLeft(_message.Message):
    __slots__ = ("node_id", "reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    reason: str
    def __init__(self, node_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class NodeOffline(_message.Message):
    __slots__ = ("node_id", "silent_for")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SILENT_FOR_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    silent_for: _duration_pb2.Duration
    def __init__(self, node_id: _Optional[str] = ..., silent_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class NodeOnline(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class JobDispatched(_message.Message):
    __slots__ = ("job_id", "node_id", "model", "queued_for")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FOR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    node_id: str
    model: str
    queued_for: _duration_pb2.Duration
    def __init__(self, job_id: _Optional[str] = ..., node_id: _Optional[str] = ..., model: _Optional[str] = ..., queued_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class JobFinished(_message.Message):
    __slots__ = ("job_id", "node_id", "model", "outcome", "duration", "prompt_tokens", "completion_tokens")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    node_id: str
    model: str
    outcome: JobOutcomeKind
    duration: _duration_pb2.Duration
    prompt_tokens: int
    completion_tokens: int
    def __init__(self, job_id: _Optional[str] = ..., node_id: _Optional[str] = ..., model: _Optional[str] = ..., outcome: _Optional[_Union[JobOutcomeKind, str]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...
