"""A polling node: a compute node that reaches the network over HTTP only (the gateway's
polling routes), for machines that cannot hold a gRPC stream.

Same jobs, same sealing, same JobRunner as the streaming agent; the transport
is register -> long-poll -> POST the sealed answer, with a lease kept alive by
the polls themselves.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.e2ee import Envelope, open_sealed, public_key_b64
from tokenplace.node.agent import RegistrationRejected
from tokenplace.node.backoff import Backoff
from tokenplace.node.engines.base import Engine
from tokenplace.node.inventory import machine_inventory
from tokenplace.node.jobs import JobReply, JobRunner, JobTicket

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Relay-Server-Token"  # noqa: S105 (a header name, not a secret)
JOIN_TOKEN_HEADER = "X-Tokenplace-Join-Token"  # noqa: S105 (a header name, not a secret)


class PollingNodeAgent:
    def __init__(
        self,
        base_url: str,
        engine: Engine,
        private_key: rsa.RSAPrivateKey,
        display_name: str = "http-node",
        poll_wait_seconds: int = 20,
        join_token: str | None = None,
        stop_grace_seconds: float = 3.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.engine = engine
        self.private_key = private_key
        self.public_key = public_key_b64(private_key)
        self.display_name = display_name
        self.poll_wait_seconds = poll_wait_seconds
        self._join_token = join_token
        self.runner = JobRunner(engine, private_key)
        self.node_id: str | None = None
        self.registered = asyncio.Event()
        self._credential = ""
        self.stop_grace_seconds = stop_grace_seconds
        self._running: dict[str, threading.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(engine.slots, thread_name_prefix="generate")
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Make `run()` return: stop polling, give running jobs `stop_grace_seconds`
        to post their answers, then cancel the rest (they post a failure)."""
        self._stopping.set()

    async def run(self) -> None:
        """Serve until `stop()` (or cancellation); raises RegistrationRejected if the
        join token is refused."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as http:
            polling = asyncio.create_task(self._poll(http))
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if polling.done():
                    polling.result()
                    return
                polling.cancel()
                await self._finish_jobs()
            finally:
                for task in (polling, stopping):
                    task.cancel()
                self._executor.shutdown(wait=False, cancel_futures=True)

    async def _poll(self, http: httpx.AsyncClient) -> None:
        backoff = Backoff(0.2, 10.0)
        while True:
            try:
                await self._register(http)
                backoff.reset()
                await self._serve(http)
            except (httpx.HTTPError, _Rejected) as error:
                log.warning("relay over HTTP failed: %s", error)
                self.registered.clear()
                await asyncio.sleep(backoff.next_delay())

    async def _finish_jobs(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.stop_grace_seconds)
        for cancelled in self._running.values():
            cancelled.set()
        if self._tasks:  # cancelled generations return between two tokens, then post
            await asyncio.wait(set(self._tasks), timeout=1.0)

    async def _register(self, http: httpx.AsyncClient) -> None:
        card = self.engine.model
        body = {
            "server_public_key": self.public_key,
            "models": [{"id": card.id, "owned_by": card.owned_by, "created": card.created}],
            "slots": self.engine.slots,
            "display_name": self.display_name,
            "inventory": machine_inventory(self.engine.name, self.engine.version),
        }
        headers = {JOIN_TOKEN_HEADER: self._join_token} if self._join_token else {}
        response = await http.post("/api/v1/relay/servers/register", json=body, headers=headers)
        if response.status_code == 401 and _error_code(response) == "join_token_invalid":
            raise RegistrationRejected(_error_message(response))
        reply = _ok(response)
        sealed = Envelope.from_json(reply["credential"])
        self._credential = open_sealed(sealed, self.private_key).decode("ascii")
        self.node_id = reply["node_id"]
        self.registered.set()

    async def _serve(self, http: httpx.AsyncClient) -> None:
        tasks = self._tasks
        while True:
            if len(tasks) >= self.engine.slots:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            reply = _ok(
                await http.post(
                    "/api/v1/relay/servers/poll",
                    headers={TOKEN_HEADER: self._credential},
                    json={
                        "server_public_key": self.public_key,
                        "wait_seconds": self.poll_wait_seconds,
                    },
                )
            )
            for job_id in reply["cancelled_job_ids"]:
                if job_id in self._running:
                    self._running[job_id].set()
            if reply["job"] is not None:
                cancelled = threading.Event()
                self._running[reply["job"]["job_id"]] = cancelled
                task = asyncio.create_task(self._run_job(http, reply["job"], cancelled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _run_job(
        self, http: httpx.AsyncClient, job: dict[str, Any], cancelled: threading.Event
    ) -> None:
        ticket = JobTicket(
            job_id=job["job_id"],
            model=job["model"],
            client_public_key=job["client_public_key"],
            request_id=job["request_id"],
            envelope=Envelope.from_json(job),
        )
        try:
            loop = asyncio.get_running_loop()
            reply = await loop.run_in_executor(self._executor, self.runner.run, ticket, cancelled)
            await http.post(
                "/api/v1/relay/responses",
                headers={TOKEN_HEADER: self._credential},
                json=_result_body(self.public_key, reply),
            )
        finally:
            self._running.pop(ticket.job_id, None)


class _Rejected(Exception):
    pass


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise _Rejected(f"{response.status_code} {response.text[:200]}")
    return response.json()


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _result_body(public_key: str, reply: JobReply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "server_public_key": public_key,
        "job_id": reply.job_id,
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        },
    }
    if reply.sealed is not None:
        body.update(reply.sealed.to_json())
    else:
        body["failure"] = reply.failure.value if reply.failure else "engine_error"
    return body
