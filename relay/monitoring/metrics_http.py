"""A tiny asyncio HTTP server for Prometheus scrapes: `GET /metrics`, nothing else.

It runs on the relay's event loop, so a scrape reads the registry and the job table
from the same thread that changes them, and `stop()` closes it at once (no thread
to join, unlike prometheus_client's `start_http_server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 10.0
MAX_HEADER_BYTES = 16 * 1024


class MetricsHTTPServer:
    def __init__(self, render: Callable[[], bytes], host: str, port: int) -> None:
        self._render = render
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}/metrics"

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, limit=MAX_HEADER_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # a slow scraper must not hold up stop
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            writer.write(self._respond(head))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that sent no complete request gets nothing
        except ConnectionError:
            pass  # the scraper went away
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, head: bytes) -> bytes:
        method, _, rest = head.partition(b" ")
        path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return _response(405, "text/plain", b"method not allowed\n")
        if path not in (b"/metrics", b"/"):
            return _response(404, "text/plain", b"not found; try /metrics\n")
        return _response(200, CONTENT_TYPE_LATEST, self._render(), with_body=method == b"GET")


def _response(status: int, content_type: str, body: bytes, with_body: bool = True) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + (body if with_body else b"")
