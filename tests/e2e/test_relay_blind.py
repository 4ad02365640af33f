"""The relay-blind flow of API v1: a client that trusts neither relay nor gateway."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import httpx
import pytest

from tests.support.blind import retrieve_until_done
from tests.support.network import LocalNetwork
from tests.support.wire_client import WireClient
from tokenplace.node.engines.echo import EchoEngine


@pytest.fixture
async def http(echo_network: LocalNetwork):
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url, timeout=10) as c:
        yield c


async def next_server(http: httpx.AsyncClient, model: str = "echo") -> str:
    reply = await http.get("/api/v1/relay/servers/next", params={"model": model})
    assert reply.status_code == 200, reply.text
    return reply.json()["server_public_key"]


async def submit(
    http: httpx.AsyncClient,
    client: WireClient,
    server_key: str,
    text: str,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[httpx.Response, str, str]:
    request_id = request_id or f"r-{uuid.uuid4().hex}"
    token = secrets.token_urlsafe(24)
    body = {
        "server_public_key": server_key,
        "client_public_key": client.public_key,
        "request_id": request_id,
        "cancel_token": token,
        **client.seal(client.inner_request(request_id, "echo", text), server_key),
        **(extra or {}),
    }
    return await http.post("/api/v1/relay/requests", json=body), request_id, token


async def test_blind_round_trip(http: httpx.AsyncClient) -> None:
    client = WireClient()
    server_key = await next_server(http)
    queued, request_id, _ = await submit(http, client, server_key, "nobody else reads this")
    assert queued.status_code == 202
    assert queued.json()["status"] in ("queued", "running")
    answer = await retrieve_until_done(http, client.public_key, request_id)
    assert answer.status_code == 200
    inner = client.open(answer.json())
    assert inner["request_id"] == request_id
    assert inner["response"]["choices"][0]["message"]["content"] == "echo: nobody else reads this"
    # Retrieval without request_id finds the same finished answer.
    again = await http.post(
        "/api/v1/relay/responses/retrieve", json={"client_public_key": client.public_key}
    )
    assert again.status_code == 200 and again.json()["request_id"] == request_id


async def test_repeated_request_id_is_idempotent(
    echo_network: LocalNetwork, http: httpx.AsyncClient
) -> None:
    client = WireClient()
    server_key = await next_server(http)
    first, request_id, _ = await submit(http, client, server_key, "once")
    second, _, _ = await submit(http, client, server_key, "once", request_id=request_id)
    assert first.status_code == second.status_code == 202
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert (await retrieve_until_done(http, client.public_key, request_id)).status_code == 200
    relay = echo_network.relay
    assert relay is not None
    assert [e.request_id for e in relay.sealed.entries()] == [request_id]


@pytest.mark.parametrize("field", ["messages", "prompt", "input", "content", "response", "text"])
async def test_plaintext_fields_are_refused(http: httpx.AsyncClient, field: str) -> None:
    client = WireClient()
    reply, _, _ = await submit(http, client, await next_server(http), "x", extra={field: "plain"})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "plaintext_forbidden"
    assert reply.json()["error"]["param"] == field


async def test_unexpected_field_is_refused(http: httpx.AsyncClient) -> None:
    client = WireClient()
    reply, _, _ = await submit(http, client, await next_server(http), "x", extra={"model": "echo"})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "model"


async def test_unknown_node_is_404(http: httpx.AsyncClient) -> None:
    client, stranger = WireClient(), WireClient()
    reply, _, _ = await submit(http, client, stranger.public_key, "x")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "node_not_found"


async def test_unknown_request_is_404(http: httpx.AsyncClient) -> None:
    reply = await http.post(
        "/api/v1/relay/responses/retrieve",
        json={"client_public_key": WireClient().public_key, "request_id": "never-sent"},
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "unknown_request"


async def test_no_node_is_503(network: LocalNetwork) -> None:
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url) as client:
        reply = await client.get("/api/v1/relay/servers/next", params={"model": "echo"})
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "no_compute_node_available"


async def test_cancel_stops_the_node_and_retrieve_says_410(network: LocalNetwork) -> None:
    node = await network.start_node(engine=EchoEngine(slots=1, token_delay_seconds=0.05))
    gateway = await network.start_gateway()
    relay = network.relay
    assert relay is not None
    client = WireClient()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        server_key = await next_server(http)
        _, request_id, token = await submit(http, client, server_key, " ".join(["w"] * 200))
        await relay.dispatcher.changes.wait_until(
            lambda: any(job.accepted for job in relay.dispatcher.jobs())
        )
        cancel = {"client_public_key": client.public_key, "request_id": request_id}
        wrong = await http.post(
            "/api/v1/relay/requests/cancel", json={**cancel, "cancel_token": "not-the-token-at-all"}
        )
        assert wrong.status_code == 403
        done = await http.post(
            "/api/v1/relay/requests/cancel", json={**cancel, "cancel_token": token}
        )
        assert done.status_code == 200
        assert done.json() == {"status": "cancelled", "request_id": request_id}
        async with asyncio.timeout(3):  # 200 tokens x 50 ms = 10 s if it kept going
            await relay.dispatcher.changes.wait_until(lambda: not relay.dispatcher.jobs())
        assert node.agent.active_jobs == 0
        gone = await http.post("/api/v1/relay/responses/retrieve", json=cancel)
        assert gone.status_code == 410
        assert gone.json()["error"]["code"] == "requester_cancelled"
        twice = await http.post(
            "/api/v1/relay/requests/cancel", json={**cancel, "cancel_token": token}
        )
        assert twice.status_code == 409


async def test_synchronous_sealed_chat_to_a_named_node(http: httpx.AsyncClient) -> None:
    client = WireClient()
    server_key = await next_server(http)
    request_id = "sync-1"
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": client.public_key,
        "server_public_key": server_key,
        "request_id": request_id,
        "messages": client.seal(client.inner_request(request_id, "echo", "hi node"), server_key),
    }
    reply = await http.post("/api/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["encrypted"] is True
    inner = client.open(reply.json()["data"])
    assert inner["request_id"] == request_id
    assert inner["response"]["choices"][0]["message"]["content"] == "echo: hi node"


@pytest.mark.parametrize("path", ["/relay/api/v1/chat/completions", "/relay/api/v1/source"])
async def test_internal_routes_fail_closed(http: httpx.AsyncClient, path: str) -> None:
    plaintext = await http.post(path, json={"model": "echo", "messages": [{"role": "user"}]})
    assert plaintext.status_code == 400
    assert plaintext.json()["error"]["code"] == "plaintext_forbidden"
    other = await http.post(path, json={"ciphertext": "AAAA"})
    assert other.status_code == 503
    assert other.json()["error"]["code"] == "distributed_api_v1_relay_disabled"
