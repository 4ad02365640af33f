"""Builds and runs the relay's grpc.aio server: services, health and reflection."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from relay.config import RelaySettings
from relay.dispatcher import Dispatcher
from relay.registry import DrainOrder, Registry
from relay.services.inference_service import InferenceServicer
from relay.services.node_service import NodeServicer
from tokenplace.relay.v1 import inference_pb2, inference_pb2_grpc, node_pb2, node_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    node_pb2.DESCRIPTOR.services_by_name["NodeService"].full_name,
    inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name,
)


class RelayServer:
    """The relay process's state and server; `start()` binds, `stop()` drains."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.registry = Registry(settings.node_timeout_seconds)
        self.dispatcher = Dispatcher(self.registry, settings.default_job_timeout_seconds)
        self.health = health.aio.HealthServicer()
        self.port = 0
        options = [
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            # Nodes keep their streams open for hours; let them ping to detect dead links.
            ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
        self.server = grpc.aio.server(options=options)
        node_pb2_grpc.add_NodeServiceServicer_to_server(
            NodeServicer(self.registry, self.dispatcher, settings), self.server
        )
        inference_pb2_grpc.add_InferenceServiceServicer_to_server(
            InferenceServicer(self.registry, self.dispatcher), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.port}"

    async def start(self) -> int:
        self.port = self.server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.port == 0:
            raise OSError(f"cannot bind the relay to {self.settings.host}:{self.settings.port}")
        await self.server.start()
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("relay listening", extra={"address": self.address})
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Tell nodes to drain, give running jobs the grace period, then stop."""
        grace = self.settings.drain_grace_seconds if grace is None else grace
        await self.health.enter_graceful_shutdown()
        for node in self.registry.all():
            node.draining = True
            node.send(DrainOrder(grace_seconds=int(grace)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.dispatcher.wait_idle()
        await self.server.stop(grace=0.5)
