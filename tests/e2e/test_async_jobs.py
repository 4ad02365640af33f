"""Async chat completions: `Prefer: respond-async` then GET /api/jobs/{id}."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.blind import POLL_INTERVAL_SECONDS
from tests.support.network import LocalNetwork
from tokenplace.node.engines.echo import EchoEngine

BODY = {"model": "echo", "messages": [{"role": "user", "content": "later please"}]}


async def poll_job(http: httpx.AsyncClient, job_id: str) -> dict:
    """Poll until the job leaves queued/running (the jobs API is polled by design)."""
    async with asyncio.timeout(10):
        while True:
            job = (await http.get(f"/api/jobs/{job_id}")).json()
            if job["status"] not in ("queued", "running"):
                return job
            await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def test_respond_async_returns_a_job_that_completes(network: LocalNetwork) -> None:
    await network.start_node(engine=EchoEngine(slots=1, token_delay_seconds=0.05))
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        queued = await http.post(
            "/v1/chat/completions", json=BODY, headers={"Prefer": "respond-async"}
        )
        assert queued.status_code == 202
        assert queued.headers["preference-applied"] == "respond-async"
        job = queued.json()
        assert job["object"] == "job" and job["status"] in ("queued", "running")
        done = await poll_job(http, job["id"])
    assert done["status"] == "completed"
    assert done["result"]["choices"][0]["message"]["content"] == "echo: later please"
    assert done["result"]["usage"]["completion_tokens"] == 3


async def test_unknown_job_is_404(echo_network: LocalNetwork) -> None:
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url) as http:
        reply = await http.get("/api/jobs/job_doesnotexist")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_request"


async def test_job_whose_node_vanishes_fails(network: LocalNetwork) -> None:
    node = await network.start_node(engine=EchoEngine(slots=1, token_delay_seconds=0.5))
    gateway = await network.start_gateway()
    relay = network.relay
    assert relay is not None
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        job = (
            await http.post("/v1/chat/completions", json=BODY, headers={"Prefer": "respond-async"})
        ).json()
        await relay.dispatcher.changes.wait_until(lambda: bool(relay.dispatcher.jobs()))
        await node.stop()
        failed = await poll_job(http, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "node_lost"
