"""NodeService.Connect: one bidirectional stream per compute node."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import grpc

from tokenplace.e2ee import InvalidPublicKey, verify_nonce_signature
from tokenplace.relay.config import RelaySettings
from tokenplace.relay.dispatcher import Dispatcher
from tokenplace.relay.errors import RelayError
from tokenplace.relay.join_token import JoinGate
from tokenplace.relay.node_instances import NodeInstances
from tokenplace.relay.registry import CloseOrder, NodeSession, Registry
from tokenplace.relay.services import convert
from tokenplace.relay.slots import SlotPool
from tokenplace.v1 import node_pb2, node_pb2_grpc

log = logging.getLogger(__name__)

NONCE_BYTES = 32
MAX_SLOTS = 256


class RegistrationRefused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NodeServicer(node_pb2_grpc.NodeServiceServicer):
    def __init__(
        self,
        registry: Registry,
        dispatcher: Dispatcher,
        settings: RelaySettings,
        node_instances: NodeInstances,
        join_gate: JoinGate | None = None,
    ):
        self.registry = registry
        self.dispatcher = dispatcher
        self.settings = settings
        self.node_instances = node_instances
        self.join_gate = join_gate or JoinGate(None)
        self._background: set[asyncio.Task[None]] = set()

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Bookkeeping that must not be cut short when the stream's task is cancelled."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # grpc.aio lets a streaming handler read and write through its context and return
    # None; mypy-protobuf's servicer stub knows only the iterator style.
    async def Connect(  # type: ignore[override]
        self,
        request_iterator: AsyncIterator[node_pb2.ConnectRequest],
        context: grpc.aio.ServicerContext[node_pb2.ConnectRequest, node_pb2.ConnectResponse],
    ) -> None:
        try:
            session = await self._register(context)
        except RegistrationRefused as refused:
            log.warning("node registration refused: %s", refused.message)
            await context.abort(refused.code, refused.message)
            return
        except TimeoutError:
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED, "send Register within the registration timeout"
            )
            return
        await self._serve(session, context)

    async def _register(self, context: grpc.aio.ServicerContext) -> NodeSession:
        nonce = os.urandom(NONCE_BYTES)
        await context.write(node_pb2.ConnectResponse(challenge=node_pb2.Challenge(nonce=nonce)))
        async with asyncio.timeout(self.settings.register_timeout_seconds):
            first = await context.read()
        if first is grpc.aio.EOF or first.WhichOneof("payload") != "register":
            raise RegistrationRefused(
                grpc.StatusCode.FAILED_PRECONDITION, "the first message must be register"
            )
        try:
            self.join_gate.check(first.register.join_token)
        except RelayError as error:
            raise RegistrationRefused(error.status_code, error.message) from None
        session = self._session_from(first.register, context.peer(), nonce)
        if first.register.instance_token:
            try:
                instance = await self.node_instances.resolve(first.register.instance_token)
            except RelayError as error:
                raise RegistrationRefused(error.status_code, error.message) from None
            await self.node_instances.joined(session, instance)
        previous = self.registry.add(session)
        if previous is not None:
            previous.send(CloseOrder("superseded by a newer connection of the same node"))
        await context.write(
            node_pb2.ConnectResponse(
                registered=node_pb2.Registered(
                    node_id=session.node_id,
                    heartbeat_interval_seconds=self.settings.heartbeat_interval_seconds,
                )
            )
        )
        log.info(
            "node joined",
            extra={
                "node_id": session.node_id,
                "models": sorted(session.models),
                "slots": session.slot_pool.slots,
            },
        )
        return session

    def _session_from(self, register: node_pb2.Register, peer: str, nonce: bytes) -> NodeSession:
        try:
            proven = verify_nonce_signature(register.public_key, nonce, register.nonce_signature)
        except InvalidPublicKey as exc:
            raise RegistrationRefused(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
        if not proven:
            raise RegistrationRefused(
                grpc.StatusCode.UNAUTHENTICATED,
                "nonce signature does not match public_key (proof of possession failed)",
            )
        if not register.models:
            raise RegistrationRefused(
                grpc.StatusCode.INVALID_ARGUMENT, "register at least one model"
            )
        if not 1 <= register.slots <= MAX_SLOTS:
            raise RegistrationRefused(
                grpc.StatusCode.INVALID_ARGUMENT, f"slots must be between 1 and {MAX_SLOTS}"
            )
        return NodeSession(
            node_id=self.registry.node_id_for(register.public_key),
            public_key=register.public_key,
            models={card.id: convert.model_from_pb(card) for card in register.models},
            slot_pool=SlotPool(register.slots, self.settings.max_queue_per_node),
            inventory=convert.inventory_from_pb(register.inventory),
            display_name=register.display_name,
            peer=peer,
        )

    async def _serve(self, session: NodeSession, context: grpc.aio.ServicerContext) -> None:
        receiver = asyncio.create_task(self._receive(session, context))
        sender = asyncio.create_task(self._send(session, context))
        try:
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            close = sender.result() if sender in done and not sender.cancelled() else None
        finally:
            receiver.cancel()
            sender.cancel()
            self.registry.remove(session, "drained" if session.draining else "disconnected")
            self.dispatcher.on_node_lost(session)
            self._in_background(self.node_instances.left(session))
            log.info("node left", extra={"node_id": session.node_id})
        if close is not None:
            code = grpc.StatusCode.PERMISSION_DENIED if close.removed else grpc.StatusCode.ABORTED
            await context.abort(code, close.reason)

    async def _receive(self, session: NodeSession, context: grpc.aio.ServicerContext) -> None:
        while True:
            message = await context.read()
            if message is grpc.aio.EOF:
                return
            session.touch()
            kind = message.WhichOneof("payload")
            if kind == "job_result":
                result = message.job_result
                outcome = convert.result_from_pb(session.node_id, result)
                self.dispatcher.on_result(session.node_id, result.job_id, outcome)
            elif kind == "job_accepted":
                self.dispatcher.on_accepted(session.node_id, message.job_accepted.job_id)

    async def _send(self, session: NodeSession, context: grpc.aio.ServicerContext) -> CloseOrder:
        while True:
            message = await session.outbound.get()
            if isinstance(message, CloseOrder):
                return message
            await context.write(convert.outbound_to_pb(message))
