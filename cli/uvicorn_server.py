"""uvicorn's Server as a supervised process needs it: stopped by the process's
StopRequest, and saying when it listens."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class SupervisedServer(uvicorn.Server):
    """uvicorn.Server with its signal handling left to the process, and a `listening` event.

    `Server.serve()` replaces the process's SIGINT/SIGTERM handlers with its own
    (`signal.signal`) while it serves, and re-raises the signal it caught once it
    has shut down. In our processes the StopRequest owns signals (it also hears the
    supervisor's lifeline) and stops the server by setting `should_exit`, which
    uvicorn also checks right after its lifespan startup: a stop that arrives while
    the gateway starts ends it as soon as it has started, without serving.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()

    @property
    def port(self) -> int:
        """The bound port (the real one when configured as 0)."""
        return int(self.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = str(self.servers[0].sockets[0].getsockname()[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
