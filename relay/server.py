"""Builds and runs the relay's grpc.aio server: services, health and reflection."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tokenplace.relay.accounts.admission import Admission
from tokenplace.relay.accounts.billing import Billing
from tokenplace.relay.accounts.keys import Accounts
from tokenplace.relay.accounts.limits import Limits, LimitSettings
from tokenplace.relay.accounts.metered import MeteredDispatch
from tokenplace.relay.community import Community
from tokenplace.relay.config import RelaySettings
from tokenplace.relay.dispatcher import Dispatcher
from tokenplace.relay.instances import Instances
from tokenplace.relay.inventory import Inventory
from tokenplace.relay.join_token import JoinGate
from tokenplace.relay.monitoring.directory import NodeDirectory, RelayIdentity
from tokenplace.relay.monitoring.events import EventBus
from tokenplace.relay.monitoring.job_log import JobLog
from tokenplace.relay.monitoring.metrics import RelayMetrics
from tokenplace.relay.monitoring.metrics_http import MetricsHTTPServer
from tokenplace.relay.node_instances import NodeInstances
from tokenplace.relay.operator_auth import OperatorAuth
from tokenplace.relay.polling import PollingNodes
from tokenplace.relay.registry import DrainOrder, Registry
from tokenplace.relay.sealed import SealedRequests
from tokenplace.relay.services.account_service import AccountServicer, AdminServicer
from tokenplace.relay.services.community_service import CommunityServicer
from tokenplace.relay.services.inference_service import InferenceServicer
from tokenplace.relay.services.instance_service import InstanceServicer
from tokenplace.relay.services.monitoring_service import MonitoringServicer
from tokenplace.relay.services.node_service import NodeServicer
from tokenplace.relay.services.operator_service import OperatorServicer
from tokenplace.relay.services.polling_service import PollingNodeServicer
from tokenplace.relay.services.sealed_service import SealedRequestServicer
from tokenplace.relay.store.migrate import upgrade_engine
from tokenplace.relay.store.sql import SQLStore
from tokenplace.v1 import (
    account_pb2,
    account_pb2_grpc,
    community_pb2,
    community_pb2_grpc,
    inference_pb2,
    inference_pb2_grpc,
    instance_pb2,
    instance_pb2_grpc,
    monitoring_pb2,
    monitoring_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    operator_pb2,
    operator_pb2_grpc,
    polling_pb2,
    polling_pb2_grpc,
    sealed_pb2,
    sealed_pb2_grpc,
)

log = logging.getLogger(__name__)

SERVICE_NAMES = tuple(
    service.full_name
    for module in (
        node_pb2,
        inference_pb2,
        sealed_pb2,
        polling_pb2,
        operator_pb2,
        community_pb2,
        account_pb2,
        instance_pb2,
        monitoring_pb2,
    )
    for service in module.DESCRIPTOR.services_by_name.values()
)


class RelayServer:
    """The relay process's state and server; `start()` binds, `stop()` drains."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        # Monitoring: domain code publishes, the MonitoringService and metrics listen.
        self.events = EventBus()
        self.registry = Registry(settings.node_timeout_seconds, self.events)
        self.dispatcher = Dispatcher(
            self.registry, settings.default_job_timeout_seconds, self.events
        )
        join_token = settings.join_token
        self.join_gate = JoinGate(join_token.get_secret_value() if join_token else None)
        self.polling = PollingNodes(
            self.registry,
            self.dispatcher,
            settings.polling_lease_seconds,
            settings.max_queue_per_node,
            self.join_gate,
        )
        self.directory = NodeDirectory(
            self.registry,
            self.events,
            settings.departed_node_retention_seconds,
            settings.max_departed_nodes,
        )
        self.identity = RelayIdentity(version=_version())
        token = settings.operator_token
        self.operator = OperatorAuth(token.get_secret_value() if token else None)
        self.store = SQLStore(settings.database_url)
        self.community = Community(settings, self.store)
        self.accounts = Accounts(self.store)
        self.billing = Billing(self.store)
        self.instances = Instances(self.store)
        self.inventory = Inventory(self.store)
        admission = Admission(
            settings.auth_mode,
            open_limits=Limits(
                LimitSettings(
                    settings.ip_requests_per_minute,
                    settings.ip_concurrent_requests,
                    settings.ip_requests_per_minute,
                )
            ),
            key_limits=Limits(
                LimitSettings(
                    settings.key_requests_per_minute,
                    settings.account_concurrent_requests,
                    settings.global_requests_per_minute,
                )
            ),
            accounts=self.accounts,
            billing=self.billing,
        )
        self.metered = MeteredDispatch(admission, self.dispatcher, self.registry)
        self.sealed = SealedRequests(
            self.registry,
            self.dispatcher,
            self.metered,
            settings.sealed_retention_seconds,
            settings.default_job_timeout_seconds,
        )
        self._sweeper: asyncio.Task[None] | None = None
        self.health = health.aio.HealthServicer()
        self.port = 0
        options = [
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            # Nodes keep their streams open for hours; let them ping to detect dead links.
            ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
        self.metrics = RelayMetrics(self.registry, self.dispatcher, self.events)
        self.events.listen(JobLog().on_event)
        self.metrics_server: MetricsHTTPServer | None = None
        self.server = grpc.aio.server(options=options, interceptors=[self.metrics.interceptor])
        node_pb2_grpc.add_NodeServiceServicer_to_server(
            NodeServicer(
                self.registry,
                self.dispatcher,
                settings,
                NodeInstances(self.instances, self.inventory),
                self.join_gate,
            ),
            self.server,
        )
        self.monitoring = MonitoringServicer(
            self.directory, self.events, self.identity, self.operator, self.join_gate
        )
        monitoring_pb2_grpc.add_MonitoringServiceServicer_to_server(self.monitoring, self.server)
        inference_pb2_grpc.add_InferenceServiceServicer_to_server(
            InferenceServicer(
                self.registry, self.dispatcher, self.metered, settings.default_reserve_tokens
            ),
            self.server,
        )
        sealed_pb2_grpc.add_SealedRequestServiceServicer_to_server(
            SealedRequestServicer(self.sealed, settings.default_reserve_tokens), self.server
        )
        polling_pb2_grpc.add_PollingNodeServiceServicer_to_server(
            PollingNodeServicer(self.polling, settings.poll_wait_seconds), self.server
        )
        operator_pb2_grpc.add_OperatorServiceServicer_to_server(
            OperatorServicer(self.operator, self.registry, self.dispatcher), self.server
        )
        community_pb2_grpc.add_CommunityServiceServicer_to_server(
            CommunityServicer(self.community, self.operator), self.server
        )
        account_pb2_grpc.add_AccountServiceServicer_to_server(
            AccountServicer(self.accounts), self.server
        )
        instance_pb2_grpc.add_InstanceServiceServicer_to_server(
            InstanceServicer(self.accounts, self.instances, self.inventory), self.server
        )
        account_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminServicer(self.operator, self.accounts, self.billing), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.port}"

    async def start(self) -> int:
        await upgrade_engine(self.store.engine)  # Alembic migrations, before any query
        self.port = self.server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.port == 0:
            raise OSError(f"cannot bind the relay to {self.settings.host}:{self.settings.port}")
        await self.server.start()
        self.identity.address = self.address
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._sweeper = asyncio.create_task(self._sweep())
        log.info("relay listening", extra={"address": self.address})
        if self.settings.metrics_port is not None:
            await self._start_metrics(self.settings.metrics_host, self.settings.metrics_port)
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Tell nodes to drain, give running jobs the grace period, then stop."""
        grace = self.settings.drain_grace_seconds if grace is None else grace
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.health.enter_graceful_shutdown()
        for node in self.registry.all():
            node.draining = True
            node.send(DrainOrder(grace_seconds=int(grace)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.dispatcher.wait_idle()
        self.monitoring.close()
        await self.server.stop(grace=0.5)
        await self.metered.drain()
        self.billing.close()
        await self.store.close()
        if self.metrics_server is not None:
            await self.metrics_server.stop()

    @property
    def metrics_port(self) -> int | None:
        """The bound Prometheus port (the real one when configured as 0), if serving."""
        return self.metrics_server.port if self.metrics_server else None

    async def _start_metrics(self, host: str, port: int) -> None:
        self.metrics_server = MetricsHTTPServer(self.metrics.exposition, host, port)
        await self.metrics_server.start()
        log.info("relay metrics serving", extra={"url": self.metrics_server.url})

    async def _sweep(self) -> None:
        """Periodic housekeeping: expired polling leases, old sealed answers."""
        while True:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            self.polling.expire()
            self.sealed.prune()
            self.metered.admission.open_limits.prune()
            self.metered.admission.key_limits.prune()


def _version() -> str:
    try:
        return importlib.metadata.version("tokenplace")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
