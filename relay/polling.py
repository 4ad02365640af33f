"""Compute nodes that speak HTTP: leases, long-polls and result delivery.

A polling node is a NodeSession like any other; its outbound queue is drained
by poll calls instead of a stream. Its credential is sealed to its own public
key at registration, which proves it holds the private key without a round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from tokenplace.e2ee import Envelope, InvalidPublicKey, seal
from tokenplace.relay.dispatcher import Dispatcher, JobOutcome
from tokenplace.relay.errors import InvalidArgument, NodeNotFound, RelayError
from tokenplace.relay.join_token import JoinGate
from tokenplace.relay.registry import CancelOrder, ModelCard, NodeSession, Registry, SealedJob
from tokenplace.relay.slots import SlotPool
from tokenplace.v1 import errors_pb2

MAX_SLOTS = 256


class CredentialInvalid(RelayError):
    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_NODE_CREDENTIAL_INVALID


class TransportConflict(RelayError):
    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = errors_pb2.ERROR_REASON_NODE_ALREADY_CONNECTED


@dataclass(frozen=True, slots=True)
class PollingRegistration:
    public_key: str
    models: list[ModelCard]
    slots: int
    inventory: dict[str, Any]
    display_name: str
    peer: str
    join_token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class PollResult:
    job: SealedJob | None
    cancelled_job_ids: list[str]


class PollingNodes:
    def __init__(
        self,
        registry: Registry,
        dispatcher: Dispatcher,
        lease_seconds: int,
        max_queue_per_node: int,
        join_gate: JoinGate | None = None,
    ) -> None:
        self.registry = registry
        self.dispatcher = dispatcher
        self.lease_seconds = lease_seconds
        self.max_queue_per_node = max_queue_per_node
        self.join_gate = join_gate or JoinGate(None)

    def register(
        self, registration: PollingRegistration, credential: str
    ) -> tuple[NodeSession, Envelope | None]:
        """New registration -> (session, sealed credential); renewal -> (session, None)."""
        self.join_gate.check(registration.join_token)
        _check_registration(registration)
        try:
            node_id = self.registry.node_id_for(registration.public_key)
        except InvalidPublicKey as error:
            raise InvalidArgument(f"public_key: {error}") from None
        existing = self.registry.find(node_id)
        if existing is not None and self._is_live(existing):
            if existing.transport != "polling":
                raise TransportConflict("this node is connected over gRPC; disconnect it first")
            self._check_credential(existing, credential)
            existing.touch()
            return existing, None
        if existing is not None:
            self.drop(existing, "lease_expired")
        token = secrets.token_urlsafe(32)
        session = NodeSession(
            node_id=node_id,
            public_key=registration.public_key,
            models={m.id: m for m in registration.models},
            slot_pool=SlotPool(registration.slots, self.max_queue_per_node),
            inventory=registration.inventory,
            display_name=registration.display_name,
            peer=registration.peer,
            transport="polling",
            credential_hash=_hash(token),
        )
        self.registry.add(session)
        return session, seal(token.encode("ascii"), registration.public_key)

    def authenticate(self, public_key: str, credential: str) -> NodeSession:
        try:
            session = self.registry.by_public_key(public_key)
        except NodeNotFound:
            raise CredentialInvalid("this node is not registered; register again") from None
        if session.transport != "polling":
            raise CredentialInvalid("this node is not a polling node")
        self._check_credential(session, credential)
        session.touch()
        return session

    def unregister(self, public_key: str, credential: str) -> bool:
        self.drop(self.authenticate(public_key, credential), "disconnected")
        return True

    async def poll(self, session: NodeSession, wait_seconds: float) -> PollResult:
        """The next job (with any cancellations before it), waiting up to `wait_seconds`."""
        cancelled: list[str] = []
        message = await _next(session, wait_seconds)
        while message is not None:
            if isinstance(message, SealedJob):
                self.dispatcher.on_accepted(session.node_id, message.job_id)
                session.touch()
                return PollResult(message, cancelled)
            if isinstance(message, CancelOrder):
                cancelled.append(message.job_id)
            message = None if session.outbound.empty() else session.outbound.get_nowait()
        session.touch()
        return PollResult(None, cancelled)

    def submit_result(
        self, session: NodeSession, job_id: str, outcome: JobOutcome | RelayError
    ) -> bool:
        known = {job.job_id for job in self.dispatcher.jobs() if job.node is session}
        if job_id not in known:
            return False
        self.dispatcher.on_result(session.node_id, job_id, outcome)
        return True

    def expire(self) -> list[NodeSession]:
        """Drop polling nodes whose lease ran out; their work fails as retryable."""
        expired = [
            n for n in self.registry.all() if n.transport == "polling" and not self._is_live(n)
        ]
        for session in expired:
            self.drop(session, "lease_expired")
        return expired

    def drop(self, session: NodeSession, reason: str) -> None:
        self.registry.remove(session, reason)
        self.dispatcher.on_node_lost(session)

    def _is_live(self, session: NodeSession) -> bool:
        limit = self.lease_seconds if session.transport == "polling" else None
        return limit is None or time.monotonic() - session.last_seen <= limit

    @staticmethod
    def _check_credential(session: NodeSession, credential: str) -> None:
        expected = session.credential_hash or b""
        if not credential or not hmac.compare_digest(_hash(credential), expected):
            raise CredentialInvalid("the node credential is missing or wrong")


async def _next(session: NodeSession, wait_seconds: float) -> Any:
    if not session.outbound.empty():
        return session.outbound.get_nowait()
    if wait_seconds <= 0:
        return None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_seconds):
            return await session.outbound.get()
    return None


def _check_registration(registration: PollingRegistration) -> None:
    if not registration.models:
        raise InvalidArgument("register at least one model")
    if not 1 <= registration.slots <= MAX_SLOTS:
        raise InvalidArgument(f"slots must be between 1 and {MAX_SLOTS}")


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
