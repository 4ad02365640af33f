"""Operator-gated routes: key rotation and node removal, gated by the relay's token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.network import LocalNetwork

TOKEN = "operator-secret-for-tests"


@pytest.fixture
async def operated(tmp_path) -> AsyncIterator[LocalNetwork]:
    net = LocalNetwork(tmp_path)
    await net.start_relay(operator_token=TOKEN)
    try:
        await net.start_node()
        await net.start_gateway()
        yield net
    finally:
        await net.stop()


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
async def test_rotate_needs_the_token_and_changes_the_key(
    operated: LocalNetwork, prefix: str
) -> None:
    async with httpx.AsyncClient(base_url=operated.gateways[0].base_url) as http:
        before = (await http.get(f"{prefix}/public-key")).json()["public_key"]
        missing = await http.post(f"{prefix}/public-key/rotate")
        wrong = await http.post(
            f"{prefix}/public-key/rotate", headers={"X-Token-Place-Operator": "guess"}
        )
        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert wrong.json()["error"]["code"] == "operator_token_invalid"
        rotated = await http.post(
            f"{prefix}/public-key/rotate", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert rotated.status_code == 200
        after = (await http.get(f"{prefix}/public-key")).json()["public_key"]
        assert rotated.json()["public_key"] == after != before
        # Plaintext mode keeps working with the new key.
        chat = await http.post(
            "/v1/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "still here"}]},
        )
        assert chat.json()["choices"][0]["message"]["content"] == "echo: still here"


async def test_operator_routes_503_without_a_configured_token(echo_network: LocalNetwork) -> None:
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url) as http:
        rotate = await http.post(
            "/api/v1/public-key/rotate", headers={"X-Token-Place-Operator": "anything"}
        )
        remove = await http.post(
            "/v1/relay/unregister",
            json={"server_public_key": "x"},
            headers={"X-Token-Place-Operator": "anything"},
        )
    for reply in (rotate, remove):
        assert reply.status_code == 503
        assert reply.json()["error"]["code"] == "operator_auth_not_configured"


async def test_unregister_removes_the_node_for_good(operated: LocalNetwork) -> None:
    relay = operated.relay
    assert relay is not None
    node = operated.nodes[0]
    headers = {"X-Token-Place-Operator": TOKEN}
    async with httpx.AsyncClient(base_url=operated.gateways[0].base_url) as http:
        body = {"server_public_key": node.agent.public_key}
        denied = await http.post("/api/v1/relay/unregister", json=body)
        assert denied.status_code == 401
        removed = await http.post("/api/v1/relay/unregister", json=body, headers=headers)
        assert removed.json() == {"message": "Server unregistered", "removed": True}
        again = await http.post("/api/v1/relay/unregister", json=body, headers=headers)
        assert again.json()["removed"] is False
        bad = await http.post("/api/v1/relay/unregister", json={"prompt": "x"}, headers=headers)
        assert bad.status_code == 400
    # The node was told it is removed: it stops instead of reconnecting.
    async with asyncio.timeout(5):
        with pytest.raises(Exception, match="removed by the relay operator"):
            await node.task
    assert relay.registry.all() == []
