"""The relay's Prometheus metrics, in a registry of its own (several relays can share
a process in tests, and the default global registry would mix them up).

Three sources feed it:
- the gRPC interceptor (relay.metrics_interceptor): RPC counts, latencies, codes;
- the event bus: dispatch latency, finished jobs, tokens, node joins and losses;
- the live state, read at scrape time: nodes, slots, queue depth, jobs in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tokenplace.relay.dispatcher import Dispatcher
from tokenplace.relay.monitoring.events import (
    Event,
    EventBus,
    JobDispatched,
    JobFinished,
    NodeJoined,
    NodeLeft,
    NodeOffline,
    Stamped,
)
from tokenplace.relay.monitoring.metrics_interceptor import GrpcMetrics, MetricsInterceptor
from tokenplace.relay.registry import Registry

log = logging.getLogger(__name__)

DISPATCH_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
# Model ids come from nodes; past this many distinct ones, new ids share one label.
MAX_MODEL_LABELS = 100
OTHER_MODEL = "other"


class LiveStateCollector(Collector):
    """Gauges computed from the registry and dispatcher at scrape time."""

    def __init__(self, registry: Registry, dispatcher: Dispatcher) -> None:
        self.registry = registry
        self.dispatcher = dispatcher

    def collect(self) -> Iterator[GaugeMetricFamily]:
        nodes = self.registry.all()
        online = self.registry.online()
        yield _gauge("tokenplace_relay_nodes_connected", "Nodes with a live session.", len(nodes))
        yield _gauge(
            "tokenplace_relay_nodes_online",
            "Connected nodes heard from within the online window and not draining.",
            len(online),
        )
        yield _gauge(
            "tokenplace_relay_slots_total",
            "Job slots of online nodes.",
            sum(n.slot_pool.slots for n in online),
        )
        yield _gauge(
            "tokenplace_relay_slots_busy",
            "Job slots in use on connected nodes.",
            sum(n.slot_pool.active for n in nodes),
        )
        yield _gauge(
            "tokenplace_relay_queue_depth",
            "Jobs waiting for a slot on a busy node.",
            sum(n.slot_pool.waiting for n in nodes),
        )
        yield _gauge(
            "tokenplace_relay_jobs_in_flight",
            "Jobs handed to a node and not finished yet.",
            len(self.dispatcher.jobs()),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class EventMetrics:
    """Counters and histograms fed by the event bus (a synchronous, never-raising listener)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.dispatch_seconds = Histogram(
            "tokenplace_relay_dispatch_latency_seconds",
            "Time from a dispatch request to the job being handed to a node (slot wait).",
            buckets=DISPATCH_BUCKETS,
            registry=registry,
        )
        self.job_seconds = Histogram(
            "tokenplace_relay_job_duration_seconds",
            "Time from dispatch to the job's end, by outcome.",
            ("outcome",),
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.jobs_finished = Counter(
            "tokenplace_relay_jobs_finished",
            "Jobs ended, by outcome.",
            ("outcome",),
            registry=registry,
        )
        self.tokens = Counter(
            "tokenplace_relay_tokens",
            "Tokens nodes reported for finished jobs, by model and kind (prompt/completion).",
            ("model", "kind"),
            registry=registry,
        )
        self.node_joins = Counter(
            "tokenplace_relay_node_joins",
            "Node registrations, by transport.",
            ("transport",),
            registry=registry,
        )
        self.node_losses = Counter(
            "tokenplace_relay_node_losses",
            "Node sessions that ended, by reason.",
            ("reason",),
            registry=registry,
        )
        self.node_offline = Counter(
            "tokenplace_relay_node_offline",
            "Connected nodes that went silent past the online window.",
            registry=registry,
        )
        self._models: set[str] = set()

    def on_event(self, stamped: Stamped) -> None:
        try:
            self._count(stamped.event)
        except Exception:  # a listener must never break the publisher (dispatch)
            log.exception("metrics could not count an event")

    def _count(self, event: Event) -> None:
        if isinstance(event, JobFinished):
            self._job_finished(event)
        elif isinstance(event, JobDispatched):
            self.dispatch_seconds.observe(max(event.queued_for_seconds, 0.0))
        elif isinstance(event, NodeJoined):
            self.node_joins.labels(event.transport).inc()
        elif isinstance(event, NodeLeft):
            self.node_losses.labels(event.reason).inc()
        elif isinstance(event, NodeOffline):
            self.node_offline.inc()

    def _job_finished(self, event: JobFinished) -> None:
        outcome = event.outcome.value
        self.jobs_finished.labels(outcome).inc()
        self.job_seconds.labels(outcome).observe(max(event.duration_seconds, 0.0))
        model = self._model_label(event.model)
        if event.prompt_tokens > 0:
            self.tokens.labels(model, "prompt").inc(event.prompt_tokens)
        if event.completion_tokens > 0:
            self.tokens.labels(model, "completion").inc(event.completion_tokens)

    def _model_label(self, model: str) -> str:
        if model in self._models:
            return model
        if len(self._models) >= MAX_MODEL_LABELS:
            return OTHER_MODEL
        self._models.add(model)
        return model


class RelayMetrics:
    """Everything the relay exposes on /metrics; `interceptor` goes to the gRPC server."""

    def __init__(self, registry: Registry, dispatcher: Dispatcher, events: EventBus) -> None:
        self.collector_registry = CollectorRegistry()
        self.grpc = GrpcMetrics(self.collector_registry)
        self.interceptor = MetricsInterceptor(self.grpc)
        self.events = EventMetrics(self.collector_registry)
        events.listen(self.events.on_event)
        self.collector_registry.register(LiveStateCollector(registry, dispatcher))

    def exposition(self) -> bytes:
        """The text exposition format of every metric, as of now."""
        return generate_latest(self.collector_registry)
