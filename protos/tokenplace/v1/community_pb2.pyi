import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProviderDirectory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_DIRECTORY_UNSPECIFIED: _ClassVar[ProviderDirectory]
    PROVIDER_DIRECTORY_COMMUNITY: _ClassVar[ProviderDirectory]
    PROVIDER_DIRECTORY_RELAY: _ClassVar[ProviderDirectory]
PROVIDER_DIRECTORY_UNSPECIFIED: ProviderDirectory
PROVIDER_DIRECTORY_COMMUNITY: ProviderDirectory
PROVIDER_DIRECTORY_RELAY: ProviderDirectory

class ListProvidersRequest(_message.Message):
    __slots__ = ("directory",)
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    directory: ProviderDirectory
    def __init__(self, directory: _Optional[_Union[ProviderDirectory, str]] = ...) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("data", "metadata")
    DATA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    metadata: _struct_pb2.Struct
    def __init__(self, data: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RecordFeedbackRequest(_message.Message):
    __slots__ = ("model_id", "rating")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    rating: int
    def __init__(self, model_id: _Optional[str] = ..., rating: _Optional[int] = ...) -> None: ...

class RecordFeedbackResponse(_message.Message):
    __slots__ = ("feedback_id",)
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    def __init__(self, feedback_id: _Optional[str] = ...) -> None: ...

class GetLeaderboardRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class LeaderboardEntry(_message.Message):
    __slots__ = ("model_id", "average_rating", "ratings_count", "last_feedback_at")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    RATINGS_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_FEEDBACK_AT_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    average_rating: float
    ratings_count: int
    last_feedback_at: _timestamp_pb2.Timestamp
    def __init__(self, model_id: _Optional[str] = ..., average_rating: _Optional[float] = ..., ratings_count: _Optional[int] = ..., last_feedback_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetLeaderboardResponse(_message.Message):
    __slots__ = ("entries", "updated")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LeaderboardEntry]
    updated: _timestamp_pb2.Timestamp
    def __init__(self, entries: _Optional[_Iterable[_Union[LeaderboardEntry, _Mapping]]] = ..., updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContributionContact(_message.Message):
    __slots__ = ("email", "matrix", "discord", "website")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    DISCORD_FIELD_NUMBER: _ClassVar[int]
    WEBSITE_FIELD_NUMBER: _ClassVar[int]
    email: str
    matrix: str
    discord: str
    website: str
    def __init__(self, email: _Optional[str] = ..., matrix: _Optional[str] = ..., discord: _Optional[str] = ..., website: _Optional[str] = ...) -> None: ...

class SubmitContributionRequest(_message.Message):
    __slots__ = ("operator_name", "region", "availability", "capabilities", "contact", "hardware", "notes")
    OPERATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    operator_name: str
    region: str
    availability: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    contact: ContributionContact
    hardware: str
    notes: str
    def __init__(self, operator_name: _Optional[str] = ..., region: _Optional[str] = ..., availability: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., contact: _Optional[_Union[ContributionContact, _Mapping]] = ..., hardware: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class SubmitContributionResponse(_message.Message):
    __slots__ = ("submission_id",)
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    submission_id: str
    def __init__(self, submission_id: _Optional[str] = ...) -> None: ...

class GetContributionSummaryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetContributionSummaryResponse(_message.Message):
    __slots__ = ("total_submissions", "regions", "capability_counts", "last_submission_at")
    class CapabilityCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TOTAL_SUBMISSIONS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_COUNTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SUBMISSION_AT_FIELD_NUMBER: _ClassVar[int]
    total_submissions: int
    regions: _containers.RepeatedScalarFieldContainer[str]
    capability_counts: _containers.ScalarMap[str, int]
    last_submission_at: _timestamp_pb2.Timestamp
    def __init__(self, total_submissions: _Optional[int] = ..., regions: _Optional[_Iterable[str]] = ..., capability_counts: _Optional[_Mapping[str, int]] = ..., last_submission_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetServerPoolRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerPoolResponse(_message.Message):
    __slots__ = ("configured_servers", "primary", "secondary", "total")
    CONFIGURED_SERVERS_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    SECONDARY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    configured_servers: _containers.RepeatedScalarFieldContainer[str]
    primary: str
    secondary: _containers.RepeatedScalarFieldContainer[str]
    total: int
    def __init__(self, configured_servers: _Optional[_Iterable[str]] = ..., primary: _Optional[str] = ..., secondary: _Optional[_Iterable[str]] = ..., total: _Optional[int] = ...) -> None: ...
