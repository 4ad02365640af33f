"""The readiness pipe: how a child tells `tokenplace up` it is really ready.

The supervisor opens a pipe per child and hands the write end over as
`--ready-fd N`. When the child is ready (relay bound and serving, gateway
listening, node registered) it writes one JSON object on one line, saying what
the supervisor needs to know (addresses, node id, model id), and closes the
pipe. End of file with no line means the child ended before it was ready.

This replaces reading log lines: readiness no longer depends on `--log-level`
or `--log-format`, and a ready message can carry data a log line would have to
be parsed for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

ReadyMessage = dict[str, Any]


def announce_ready(fd: int | None, **message: Any) -> None:
    """Child side: write `message` as the ready line and close `fd` (None: no supervisor).

    A supervisor that has gone away is not an error here; its lifeline tells the
    process to stop.
    """
    if fd is None:
        return
    line = (json.dumps(message) + "\n").encode()
    try:
        with contextlib.suppress(BrokenPipeError):
            os.write(fd, line)  # one write, far below PIPE_BUF: never split
    finally:
        os.close(fd)


class ReadyPipe:
    """Supervisor side: the pipe, its end for the child, and the wait for the message."""

    def __init__(self) -> None:
        read_fd, self.child_fd = os.pipe()  # both non-inheritable (PEP 446)
        self._read_fd: int | None = read_fd

    def child_spawned(self) -> None:
        """Close our copy of the child's end, so the child's exit means end of file."""
        os.close(self.child_fd)

    async def message(self) -> ReadyMessage | None:
        """The child's ready message, or None if it closed the pipe (or died) without one."""
        assert self._read_fd is not None, "the ready message is read once"
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(self._read_fd, "rb", buffering=0)
        self._read_fd = None  # the transport owns it now and closes it
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        try:
            line = await reader.readline()
        finally:
            transport.close()
        if not line.endswith(b"\n"):
            return None
        message = json.loads(line)
        return message if isinstance(message, dict) else None

    def close(self) -> None:
        """Drop our end if the message was never awaited (stopped before the child was)."""
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
