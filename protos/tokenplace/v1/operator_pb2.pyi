from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CheckOperatorRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckOperatorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveNodeRequest(_message.Message):
    __slots__ = ("server_public_key",)
    SERVER_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    server_public_key: str
    def __init__(self, server_public_key: _Optional[str] = ...) -> None: ...

class RemoveNodeResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...
