"""A MonitoringService.WatchEvents client for tests: await events instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc

from tokenplace.v1 import monitoring_pb2, monitoring_pb2_grpc

Event = monitoring_pb2.MonitoringEvent


class EventWatch:
    """Subscribed once entered (the relay sends headers only after it subscribed)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.received: list[Event] = []
        self._channel: grpc.aio.Channel | None = None
        self._call: Any = None

    async def __aenter__(self) -> EventWatch:
        self._channel = grpc.aio.insecure_channel(self.address)
        stub = monitoring_pb2_grpc.MonitoringServiceStub(self._channel)
        self._call = stub.WatchEvents(monitoring_pb2.WatchEventsRequest())
        async with asyncio.timeout(5):
            await self._call.initial_metadata()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._call is not None:
            self._call.cancel()
        if self._channel is not None:
            await self._channel.close()

    async def next(
        self, kind: str, where: Callable[[Any], bool] = lambda _: True, within: float = 5
    ) -> Any:
        """The next event of `kind` (e.g. "node_offline") whose payload satisfies `where`."""
        async with asyncio.timeout(within):
            while True:
                reply = await self._call.read()
                assert reply is not grpc.aio.EOF, "the event stream ended"
                self.received.append(reply.event)
                if reply.event.WhichOneof("kind") == kind:
                    payload = getattr(reply.event, kind)
                    if where(payload):
                        return payload

    @property
    def call(self) -> Any:
        return self._call


def monitoring_stub(channel: grpc.aio.Channel) -> monitoring_pb2_grpc.MonitoringServiceStub:
    return monitoring_pb2_grpc.MonitoringServiceStub(channel)
