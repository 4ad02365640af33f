"""The HTTP compute-node routes, driven by hand as a node implementation would."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.network import LocalNetwork
from tests.support.wire_client import WireClient
from tokenplace.e2ee import Envelope, generate_private_key, open_sealed, public_key_b64

TOKEN = "X-Relay-Server-Token"


@pytest.fixture
async def http(network: LocalNetwork):
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
        yield client


def registration(key: rsa.RSAPrivateKey) -> dict:
    return {"server_public_key": public_key_b64(key), "models": [{"id": "echo"}], "slots": 1}


async def register(http: httpx.AsyncClient, key: rsa.RSAPrivateKey) -> str:
    reply = await http.post("/api/v1/relay/servers/register", json=registration(key))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["node_id"].startswith("node-") and body["next_ping_in_x_seconds"] > 0
    return open_sealed(Envelope.from_json(body["credential"]), key).decode()


async def test_credential_is_sealed_to_the_node_and_renews_the_lease(
    http: httpx.AsyncClient,
) -> None:
    key = generate_private_key()
    credential = await register(http, key)
    renewed = await http.post(
        "/api/v1/relay/servers/register", json=registration(key), headers={TOKEN: credential}
    )
    assert renewed.status_code == 200 and renewed.json()["credential"] is None
    hijack = await http.post("/api/v1/relay/servers/register", json=registration(key))
    assert hijack.status_code == 401  # a live registration renews only with its credential
    other = await http.post(
        "/api/v1/relay/servers/register", json=registration(generate_private_key())
    )
    with pytest.raises(ValueError):  # a credential opens only with its own node's key
        open_sealed(Envelope.from_json(other.json()["credential"]), key)


async def test_poll_needs_the_credential(http: httpx.AsyncClient) -> None:
    key = generate_private_key()
    await register(http, key)
    body = {"server_public_key": public_key_b64(key), "wait_seconds": 0}
    missing = await http.post("/api/v1/relay/servers/poll", json=body)
    wrong = await http.post("/api/v1/relay/servers/poll", json=body, headers={TOKEN: "nope"})
    for reply in (missing, wrong):
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "node_credential_invalid"


async def test_poll_hands_out_a_blind_request_and_the_answer_reaches_the_client(
    http: httpx.AsyncClient,
) -> None:
    key = generate_private_key()
    credential = await register(http, key)
    headers = {TOKEN: credential}
    node_key = public_key_b64(key)
    empty = await http.post(
        "/api/v1/relay/servers/poll",
        headers=headers,
        json={"server_public_key": node_key, "wait_seconds": 0},
    )
    assert empty.json() == {
        "job": None,
        "cancelled_job_ids": [],
        "next_ping_in_x_seconds": empty.json()["next_ping_in_x_seconds"],
    }
    client = WireClient()
    inner = client.inner_request("r-1", "echo", "hello")
    queued = await http.post(
        "/api/v1/relay/requests",
        json={
            "server_public_key": node_key,
            "client_public_key": client.public_key,
            "request_id": "r-1",
            "cancel_token": "c" * 32,
            **client.seal(inner, node_key),
        },
    )
    assert queued.status_code == 202
    polled = await http.post(
        "/api/v1/relay/servers/poll",
        headers=headers,
        json={"server_public_key": node_key, "wait_seconds": 5},
    )
    job = polled.json()["job"]
    assert job["request_id"] == "r-1" and job["client_public_key"] == client.public_key
    assert open_sealed(Envelope.from_json(job), key)  # sealed to this node
    plaintext = await http.post(
        "/api/v1/relay/responses",
        headers=headers,
        json={"server_public_key": node_key, "job_id": job["job_id"], "text": "leak"},
    )
    assert plaintext.status_code == 400
    answer = client.seal({"request_id": "r-1", "response": {"ok": True}}, client.public_key)
    unknown = await http.post(
        "/api/v1/relay/responses",
        headers=headers,
        json={"server_public_key": node_key, "job_id": "not-a-job", **answer},
    )
    assert unknown.status_code == 404
    stored = await http.post(
        "/api/v1/relay/responses",
        headers=headers,
        json={
            "server_public_key": node_key,
            "job_id": job["job_id"],
            **answer,
            "usage": {"prompt_tokens": 1, "completion_tokens": 2},
        },
    )
    assert stored.status_code == 200, stored.text
    retrieved = await http.post(
        "/api/v1/relay/responses/retrieve",
        json={"client_public_key": client.public_key, "request_id": "r-1"},
    )
    assert client.open(retrieved.json()) == {"request_id": "r-1", "response": {"ok": True}}


async def test_only_the_assigned_node_may_answer(
    network: LocalNetwork, http: httpx.AsyncClient
) -> None:
    owner, intruder = generate_private_key(), generate_private_key()
    owner_cred, intruder_cred = await register(http, owner), await register(http, intruder)
    client = WireClient()
    owner_pk = public_key_b64(owner)
    await http.post(
        "/api/v1/relay/requests",
        json={
            "server_public_key": owner_pk,
            "client_public_key": client.public_key,
            "request_id": "r-2",
            "cancel_token": "c" * 32,
            **client.seal(client.inner_request("r-2", "echo", "x"), owner_pk),
        },
    )
    polled = await http.post(
        "/api/v1/relay/servers/poll",
        headers={TOKEN: owner_cred},
        json={"server_public_key": owner_pk, "wait_seconds": 5},
    )
    job_id = polled.json()["job"]["job_id"]
    forged = await http.post(
        "/api/v1/relay/responses",
        headers={TOKEN: intruder_cred},
        json={
            "server_public_key": public_key_b64(intruder),
            "job_id": job_id,
            **client.seal({"forged": True}, client.public_key),
        },
    )
    assert forged.status_code == 404


async def test_unregister_ends_the_lease(network: LocalNetwork, http: httpx.AsyncClient) -> None:
    key = generate_private_key()
    credential = await register(http, key)
    body = {"server_public_key": public_key_b64(key)}
    gone = await http.post(
        "/api/v1/relay/servers/unregister", json=body, headers={TOKEN: credential}
    )
    assert gone.json() == {"message": "Server unregistered", "removed": True}
    assert network.relay is not None and network.relay.registry.all() == []
    after = await http.post("/api/v1/relay/servers/poll", json=body, headers={TOKEN: credential})
    assert after.status_code == 401


async def test_lapsed_lease_drops_the_node(tmp_path) -> None:
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay(polling_lease_seconds=1, sweep_interval_seconds=0.2)
    gateway = await net.start_gateway()
    try:
        async with httpx.AsyncClient(base_url=gateway.base_url) as http:
            await register(http, generate_private_key())
        assert len(relay.registry.all()) == 1
        async with asyncio.timeout(5):  # lease 1 s, swept every 0.2 s
            await relay.registry.wait_until(lambda: not relay.registry.all())
    finally:
        await net.stop()
