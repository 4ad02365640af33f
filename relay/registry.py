"""The live node registry: who is connected, what they serve, how loaded they are."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization

from tokenplace.e2ee import InvalidPublicKey, load_public_key
from tokenplace.relay.errors import ModelNotFound, NodeLost, NodeNotFound, NoNodeAvailable
from tokenplace.relay.monitoring.events import (
    EventBus,
    NodeJoined,
    NodeLeft,
    NodeOffline,
    NodeOnline,
)
from tokenplace.relay.slots import SlotPool
from tokenplace.relay.watch import ChangeSignal

# Silence timers fire this long after the window, so the check never lands just inside it.
_TIMER_SLACK_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class ModelCard:
    id: str
    owned_by: str
    created: int


@dataclass(frozen=True, slots=True)
class SealedJob:
    """A job order for a node: routing fields plus opaque ciphertext."""

    job_id: str
    model: str
    client_public_key: str
    request_id: str
    ciphertext: bytes
    cipherkey: bytes
    iv: bytes
    deadline_unix: float
    report_start: bool = False


@dataclass(frozen=True, slots=True)
class CancelOrder:
    job_id: str


@dataclass(frozen=True, slots=True)
class DrainOrder:
    grace_seconds: int


@dataclass(frozen=True, slots=True)
class CloseOrder:
    """Ends the stream from the relay side (a newer connection took over, or an
    operator removed the node: then the node is told not to come back)."""

    reason: str
    removed: bool = False


Outbound = SealedJob | CancelOrder | DrainOrder | CloseOrder


@dataclass(eq=False)
class NodeSession:
    node_id: str
    public_key: str
    models: dict[str, ModelCard]
    slot_pool: SlotPool
    inventory: dict[str, Any]
    display_name: str
    peer: str
    connected_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.monotonic)
    last_seen_wall: float = field(default_factory=time.time)
    last_dispatch: int = 0
    draining: bool = False
    outbound: asyncio.Queue[Outbound] = field(default_factory=asyncio.Queue)
    # "stream" nodes hold a Connect stream; "polling" nodes speak HTTP and hold a lease.
    transport: str = "stream"
    credential_hash: bytes | None = None
    # The account that earns credits for tokens this node serves (instance owner).
    owner_account_id: str | None = None
    instance_id: str | None = None
    # Set once the online window lapsed without a message; cleared when heard from again.
    silent: bool = False
    # The registry's hook for a silent node speaking again (NodeOnline).
    on_revived: Callable[[NodeSession], None] | None = field(default=None, repr=False)

    def touch(self) -> None:
        self.last_seen = time.monotonic()
        self.last_seen_wall = time.time()
        if self.silent:
            self.silent = False
            if self.on_revived is not None:
                self.on_revived(self)

    def send(self, message: Outbound) -> None:
        self.outbound.put_nowait(message)

    def is_online(self, timeout_seconds: float) -> bool:
        return not self.draining and time.monotonic() - self.last_seen <= timeout_seconds


class Registry:
    """Connected nodes by id. Publishes NodeJoined / NodeLeft, and NodeOffline / NodeOnline
    from a per-node timer due when the node's online window would lapse."""

    def __init__(self, node_timeout_seconds: float, events: EventBus | None = None) -> None:
        self.node_timeout_seconds = node_timeout_seconds
        self.events = events or EventBus()
        self._nodes: dict[str, NodeSession] = {}
        self._silence_timers: dict[NodeSession, asyncio.TimerHandle] = {}
        self._dispatch_counter = itertools.count(1)
        self.changes = ChangeSignal()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checked whenever a node joins or leaves."""
        await self.changes.wait_until(predicate)

    @staticmethod
    def node_id_for(public_key: str) -> str:
        """Stable id from the key's fingerprint, so a reconnecting node keeps its name."""
        der = load_public_key(public_key).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "node-" + hashlib.sha256(der).hexdigest()[:16]

    def add(self, session: NodeSession) -> NodeSession | None:
        """Register `session`; returns the older session of the same node, if any."""
        previous = self._nodes.get(session.node_id)
        if previous is not None:
            self._forget(previous, "superseded")
        self._nodes[session.node_id] = session
        session.on_revived = self._revived
        self._watch_silence(session)
        self.events.publish(
            NodeJoined(
                node_id=session.node_id,
                display_name=session.display_name,
                models=tuple(session.models),
                slots=session.slot_pool.slots,
                transport=session.transport,
            )
        )
        self.changes.notify()
        return previous

    def remove(self, session: NodeSession, reason: str = "disconnected") -> bool:
        """Forget `session` (only if it is still the current one for its id).

        `reason` is reported in NodeLeft: "disconnected", "removed", "lease_expired",
        "drained" ("superseded" is added() by the newer session itself).
        """
        session.slot_pool.close(NodeLost(f"compute node {session.node_id} disconnected"))
        if self._nodes.get(session.node_id) is session:
            del self._nodes[session.node_id]
            self._forget(session, reason)
            self.changes.notify()
            return True
        return False

    def _forget(self, session: NodeSession, reason: str) -> None:
        timer = self._silence_timers.pop(session, None)
        if timer is not None:
            timer.cancel()
        session.on_revived = None
        self.events.publish(NodeLeft(node_id=session.node_id, reason=reason))

    def _watch_silence(self, session: NodeSession) -> None:
        """Check `session` again just after its online window would lapse."""
        due = session.last_seen + self.node_timeout_seconds + _TIMER_SLACK_SECONDS
        delay = max(due - time.monotonic(), 0.0)  # the loop's clock may not be monotonic()'s
        loop = asyncio.get_running_loop()
        self._silence_timers[session] = loop.call_later(delay, self._check_silence, session)

    def _check_silence(self, session: NodeSession) -> None:
        if self._nodes.get(session.node_id) is not session:
            return
        silent_for = time.monotonic() - session.last_seen
        if silent_for <= self.node_timeout_seconds:
            self._watch_silence(session)  # heard from meanwhile: look again later
            return
        del self._silence_timers[session]
        session.silent = True
        self.events.publish(NodeOffline(node_id=session.node_id, silent_for_seconds=silent_for))
        self.changes.notify()

    def _revived(self, session: NodeSession) -> None:
        if self._nodes.get(session.node_id) is not session:
            return
        self._watch_silence(session)
        self.events.publish(NodeOnline(node_id=session.node_id))
        self.changes.notify()

    def find(self, node_id: str) -> NodeSession | None:
        return self._nodes.get(node_id)

    def by_public_key(self, public_key: str) -> NodeSession:
        """The connected node holding `public_key` (any accepted key form)."""
        try:
            node_id = self.node_id_for(public_key)
        except InvalidPublicKey:
            raise NodeNotFound("server_public_key is not a valid RSA public key") from None
        session = self._nodes.get(node_id)
        if session is None:
            raise NodeNotFound("no compute node with that server_public_key is registered")
        return session

    def get(self, node_id: str) -> NodeSession:
        session = self._nodes.get(node_id)
        if session is None:
            raise NodeNotFound(f"no compute node {node_id!r} is connected")
        return session

    def all(self) -> list[NodeSession]:
        return list(self._nodes.values())

    def online(self) -> list[NodeSession]:
        return [n for n in self._nodes.values() if n.is_online(self.node_timeout_seconds)]

    def catalog(self) -> dict[str, tuple[ModelCard, list[NodeSession]]]:
        """Model id -> (card, online nodes serving it)."""
        served: dict[str, tuple[ModelCard, list[NodeSession]]] = {}
        for node in self.online():
            for model_id, card in node.models.items():
                served.setdefault(model_id, (card, []))[1].append(node)
        return served

    def peek(self, model: str) -> NodeSession | None:
        """The node `select` would prefer now, if it has a free slot; no side effects."""
        free = [n for n in self.online() if model in n.models and n.slot_pool.free]
        return min(free, key=lambda n: (n.slot_pool.load(), n.last_dispatch), default=None)

    def select(self, model: str, exclude: Iterable[str] = ()) -> NodeSession:
        """Least loaded online node serving `model`, free slots first.

        When every candidate is busy, the least loaded one is still returned so
        the job can queue there (bounded); only an absent model is an error.
        """
        online = self.online()
        if not online:
            raise NoNodeAvailable("no compute node is online; try again when one connects")
        serving = [n for n in online if not model or model in n.models]
        if not serving:
            raise ModelNotFound(f"the model {model!r} is not served by any online compute node")
        excluded = set(exclude)
        candidates = [n for n in serving if n.node_id not in excluded]
        if not candidates:
            raise NoNodeAvailable(f"no other compute node serving {model!r} is online")
        return min(
            candidates,
            key=lambda n: (n.slot_pool.free == 0, n.slot_pool.load(), n.last_dispatch),
        )

    def mark_dispatched(self, node: NodeSession) -> None:
        """Record a dispatch so equally loaded nodes take turns."""
        node.last_dispatch = next(self._dispatch_counter)
