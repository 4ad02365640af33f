"""What monitoring reports about nodes and the cluster, fed by the relay's events.

The registry knows connected nodes only; the NodeDirectory also remembers nodes that
left (for a retention period, up to a maximum count) so dashboards can show them as
offline, and keeps per-node and cluster counters from JobDispatched / JobFinished.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from tokenplace.relay.monitoring.events import (
    EventBus,
    JobDispatched,
    JobFinished,
    JobOutcomeKind,
    NodeJoined,
    NodeLeft,
    Stamped,
)
from tokenplace.relay.registry import NodeSession, Registry

# Outcomes that count against a node; a cancelled job is nobody's failure.
FAILED_OUTCOMES = frozenset(
    {JobOutcomeKind.FAILED, JobOutcomeKind.NODE_LOST, JobOutcomeKind.DEADLINE_EXCEEDED}
)


@dataclass
class Counters:
    jobs_dispatched: int = 0
    jobs_completed: int = 0
    jobs_failed: int = 0
    tokens_generated: int = 0

    def count(self, event: JobDispatched | JobFinished) -> None:
        if isinstance(event, JobDispatched):
            self.jobs_dispatched += 1
            return
        if event.outcome is JobOutcomeKind.COMPLETED:
            self.jobs_completed += 1
        elif event.outcome in FAILED_OUTCOMES:
            self.jobs_failed += 1
        self.tokens_generated += event.completion_tokens


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One node as monitoring reports it (connected, or departed and offline)."""

    node_id: str
    display_name: str
    transport: str
    peer: str
    models: tuple[str, ...]
    slots: int
    slots_in_use: int
    queued_jobs: int
    connected_at: float  # wall clock
    last_seen: float  # wall clock
    online: bool
    connected: bool
    draining: bool
    inventory: dict[str, Any]
    counters: Counters


@dataclass(frozen=True, slots=True)
class ClusterStats:
    workers_online: int
    workers_total: int
    slots_total: int
    slots_busy: int
    queued_jobs: int
    models_served: int
    counters: Counters


@dataclass
class RelayIdentity:
    """This relay instance: a fresh id per process, its address once bound."""

    version: str
    relay_id: str = field(default_factory=lambda: "relay-" + uuid.uuid4().hex[:12])
    started_at: float = field(default_factory=time.time)
    address: str = ""


@dataclass(frozen=True, slots=True)
class _Departed:
    view: NodeStatus
    left_at: float  # monotonic


class NodeDirectory:
    def __init__(
        self,
        registry: Registry,
        events: EventBus,
        retention_seconds: float,
        max_departed: int,
    ) -> None:
        self.registry = registry
        self.retention_seconds = retention_seconds
        self.max_departed = max_departed
        self.totals = Counters()
        self._counters: dict[str, Counters] = {}
        self._sessions: dict[str, NodeSession] = {}
        self._departed: OrderedDict[str, _Departed] = OrderedDict()
        events.listen(self._on_event)

    def nodes(self) -> list[NodeStatus]:
        """Connected nodes first (by id), then departed ones, most recent first."""
        self._prune()
        connected = sorted(self.registry.all(), key=lambda n: n.node_id)
        departed = [
            replace(entry.view, counters=self._counters_of(node_id))
            for node_id, entry in reversed(self._departed.items())
        ]
        return [self._view(node) for node in connected] + departed

    def cluster(self) -> ClusterStats:
        self._prune()
        connected = self.registry.all()
        online = self.registry.online()
        return ClusterStats(
            workers_online=len(online),
            workers_total=len(connected) + len(self._departed),
            slots_total=sum(n.slot_pool.slots for n in connected),
            slots_busy=sum(n.slot_pool.active for n in connected),
            queued_jobs=sum(n.slot_pool.waiting for n in connected),
            models_served=len({model for n in online for model in n.models}),
            counters=replace(self.totals),
        )

    def _on_event(self, stamped: Stamped) -> None:
        event = stamped.event
        if isinstance(event, NodeJoined):
            self._departed.pop(event.node_id, None)
            session = self.registry.find(event.node_id)
            if session is not None:
                self._sessions[event.node_id] = session
        elif isinstance(event, NodeLeft):
            self._on_left(event.node_id)
        elif isinstance(event, JobDispatched | JobFinished):
            self.totals.count(event)
            # A job can finish just after its node left (node lost): still its job.
            if event.node_id in self._sessions or event.node_id in self._departed:
                self._counters.setdefault(event.node_id, Counters()).count(event)

    def _on_left(self, node_id: str) -> None:
        session = self._sessions.pop(node_id, None)
        if session is None:
            return
        view = replace(
            self._view(session),
            online=False,
            connected=False,
            slots_in_use=0,
            queued_jobs=0,
        )
        self._departed.pop(node_id, None)
        self._departed[node_id] = _Departed(view, time.monotonic())
        self._prune()

    def _prune(self) -> None:
        cutoff = time.monotonic() - self.retention_seconds
        while self._departed:
            node_id, oldest = next(iter(self._departed.items()))
            if oldest.left_at >= cutoff and len(self._departed) <= self.max_departed:
                break
            del self._departed[node_id]
            if node_id not in self._sessions:
                self._counters.pop(node_id, None)

    def _view(self, node: NodeSession) -> NodeStatus:
        return NodeStatus(
            node_id=node.node_id,
            display_name=node.display_name,
            transport=node.transport,
            peer=node.peer,
            models=tuple(sorted(node.models)),
            slots=node.slot_pool.slots,
            slots_in_use=node.slot_pool.active,
            queued_jobs=node.slot_pool.waiting,
            connected_at=node.connected_at,
            last_seen=node.last_seen_wall,
            online=node.is_online(self.registry.node_timeout_seconds),
            connected=True,
            draining=node.draining,
            inventory=dict(node.inventory),
            counters=self._counters_of(node.node_id),
        )

    def _counters_of(self, node_id: str) -> Counters:
        return replace(self._counters.get(node_id, Counters()))
