"""Relay-blind requests: sealed envelopes queued for a named node, answers kept for polling.

The relay holds routing ids, a hash of the cancel token and ciphertext, nothing else.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field

import grpc

from tokenplace.relay.accounts.admission import Ticket
from tokenplace.relay.accounts.metered import MeteredDispatch
from tokenplace.relay.dispatcher import Dispatcher, Sealed
from tokenplace.relay.errors import InvalidArgument, JobCancelled, JobTimedOut, RelayError
from tokenplace.relay.registry import Registry
from tokenplace.v1 import errors_pb2

log = logging.getLogger(__name__)

MIN_CANCEL_TOKEN_CHARS = 16


class RequestState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LOST = "lost"


TERMINAL = {RequestState.COMPLETED, RequestState.CANCELLED, RequestState.EXPIRED, RequestState.LOST}


class UnknownRequest(RelayError):
    status_code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_UNKNOWN_REQUEST


class CancelProofInvalid(RelayError):
    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = errors_pb2.ERROR_REASON_CANCEL_PROOF_INVALID


class RequestFinished(RelayError):
    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = errors_pb2.ERROR_REASON_REQUEST_ALREADY_FINISHED


@dataclass(eq=False)
class SealedEntry:
    client_public_key: str
    request_id: str
    node_id: str
    cancel_token_hash: bytes
    created: float = field(default_factory=time.monotonic)
    state: RequestState = RequestState.QUEUED
    finished: float | None = None
    response: Sealed | None = None
    reason: str = ""

    def end(self, state: RequestState, reason: str = "", response: Sealed | None = None) -> None:
        if self.state in TERMINAL:
            return
        self.state, self.reason, self.response = state, reason, response
        self.finished = time.monotonic()


class SealedRequests:
    def __init__(
        self,
        registry: Registry,
        dispatcher: Dispatcher,
        metered: MeteredDispatch,
        retention_seconds: float,
        job_timeout_seconds: float,
    ) -> None:
        self.registry = registry
        self.dispatcher = dispatcher
        self.metered = metered
        self.retention_seconds = retention_seconds
        self.job_timeout_seconds = job_timeout_seconds
        self._entries: dict[tuple[str, str], SealedEntry] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(
        self, server_public_key: str, sealed: Sealed, cancel_token: str, ticket: Ticket
    ) -> tuple[SealedEntry, bool]:
        """Queue `sealed` for the node under `ticket`; returns (entry, was_duplicate).

        The caller releases the ticket when this raises or reports a duplicate.
        """
        key = (sealed.client_public_key, sealed.request_id)
        existing = self._entries.get(key)
        if existing is not None:
            return self._refresh(existing), True
        if len(cancel_token) < MIN_CANCEL_TOKEN_CHARS:
            raise InvalidArgument(
                f"cancel_token must be at least {MIN_CANCEL_TOKEN_CHARS} random characters"
            )
        node = self.registry.by_public_key(server_public_key)
        entry = SealedEntry(
            client_public_key=sealed.client_public_key,
            request_id=sealed.request_id,
            node_id=node.node_id,
            cancel_token_hash=_hash(cancel_token),
        )
        self._entries[key] = entry
        task = asyncio.create_task(self._run(entry, sealed, ticket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return entry, False

    async def _run(self, entry: SealedEntry, sealed: Sealed, ticket: Ticket) -> None:
        try:
            # report_start: the node's JobAccepted moves the entry QUEUED -> RUNNING.
            outcome = await self.metered.run(
                ticket, entry.node_id, "", sealed, self.job_timeout_seconds, report_start=True
            )
        except JobCancelled:
            entry.end(RequestState.CANCELLED, "requester_cancelled")
        except JobTimedOut:
            entry.end(RequestState.EXPIRED, "provider_timeout")
        except RelayError as error:
            entry.end(RequestState.LOST, error.reason_code)
        else:
            entry.end(RequestState.COMPLETED, response=outcome.response)
        log.info(
            "sealed request ended", extra={"state": entry.state.value, "node_id": entry.node_id}
        )

    def retrieve(self, client_public_key: str, request_id: str = "") -> SealedEntry:
        """The named request, or this client's oldest finished (else oldest pending) one."""
        if request_id:
            entry = self._entries.get((client_public_key, request_id))
        else:
            mine = [e for e in self._entries.values() if e.client_public_key == client_public_key]
            finished = [e for e in mine if e.state in TERMINAL]
            entry = min(finished or mine, key=lambda e: e.created, default=None)
        if entry is None:
            raise UnknownRequest("no request with that client_public_key and request_id")
        return self._refresh(entry)

    def cancel(self, client_public_key: str, request_id: str, cancel_token: str) -> SealedEntry:
        entry = self._entries.get((client_public_key, request_id))
        if entry is None:
            raise UnknownRequest("no request with that client_public_key and request_id")
        if not hmac.compare_digest(_hash(cancel_token), entry.cancel_token_hash):
            raise CancelProofInvalid("the cancel_token does not match this request")
        if entry.state in TERMINAL:
            raise RequestFinished(f"the request already ended ({entry.state.value})")
        self.dispatcher.cancel(client_public_key, request_id)
        entry.end(RequestState.CANCELLED, "requester_cancelled")
        return entry

    def prune(self) -> int:
        """Forget answers and terminal states older than the retention time."""
        cutoff = time.monotonic() - self.retention_seconds
        stale = [k for k, e in self._entries.items() if e.finished and e.finished < cutoff]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def entries(self) -> list[SealedEntry]:
        return list(self._entries.values())

    def _refresh(self, entry: SealedEntry) -> SealedEntry:
        if entry.state is RequestState.QUEUED:
            job = self.dispatcher.job_for(entry.client_public_key, entry.request_id)
            if job is not None and job.accepted:
                entry.state = RequestState.RUNNING
        return entry


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
