"""LocalAI's P2P API on the gateway, route by route: field names, casing and statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.network import LocalNetwork, serve_app
from tests.support.network import test_key as cached_key
from tokenplace.node.engines.echo import EchoEngine

OPERATOR_TOKEN = "p2p-operator-secret"
JOIN_TOKEN = "p2p-join-secret"
NODE_FIELDS = {"Name", "ID", "TunnelAddress", "ServiceID", "LastSeen"}
STATUS_FIELDS = {"name", "id", "tunnelAddress", "serviceID", "lastSeen", "isOnline"}
OPERATOR = {"X-Token-Place-Operator": OPERATOR_TOKEN}


def assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code


def iso_8601(value: str) -> datetime:
    """Parse an ISO 8601 timestamp and insist it carries its UTC offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no timezone"
    return parsed


@pytest.fixture
async def p2p(tmp_path: Path) -> AsyncIterator[LocalNetwork]:
    """A relay with an operator token, two echo nodes and a gateway."""
    net = LocalNetwork(tmp_path)
    await net.start_relay(operator_token=OPERATOR_TOKEN)
    try:
        await net.start_node(EchoEngine(slots=2, model_id="beta"))
        await net.start_node(EchoEngine(slots=1, model_id="alpha"))
        await net.start_gateway()
        yield net
    finally:
        await net.stop()


async def get(net: LocalNetwork, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=net.gateways[0].base_url) as http:
        return await http.get(path, **kwargs)


async def test_p2p_lists_workers_and_federated_nodes_in_the_seed_casing(p2p: LocalNetwork) -> None:
    before = datetime.now().astimezone() - timedelta(seconds=5)
    reply = await get(p2p, "/api/p2p")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"nodes", "federated_nodes"}
    assert len(body["nodes"]) == 2 and len(body["federated_nodes"]) == 1
    for node in body["nodes"] + body["federated_nodes"]:
        assert set(node) == NODE_FIELDS
        assert all(isinstance(node[key], str) and node[key] for key in NODE_FIELDS)
        assert iso_8601(node["LastSeen"]) >= before
    by_name = {node["Name"]: node for node in body["nodes"]}
    assert set(by_name) == {"test-node-0", "test-node-1"}
    agents = {node.agent.settings.display_name: node.agent for node in p2p.nodes}
    for name, node in by_name.items():
        assert node["ID"] == agents[name].node_id
        assert node["TunnelAddress"].startswith("127.0.0.1:")  # the address the relay sees
    assert by_name["test-node-0"]["ServiceID"] == "beta"  # what the node serves
    assert by_name["test-node-1"]["ServiceID"] == "alpha"
    relay = body["federated_nodes"][0]
    assert relay["ServiceID"] == "tokenplace-relay"


async def test_workers_report_online_status_in_lower_camel(p2p: LocalNetwork) -> None:
    reply = await get(p2p, "/api/p2p/workers")
    assert reply.status_code == 200, reply.text
    nodes = reply.json()["nodes"]
    assert set(reply.json()) == {"nodes"}
    assert len(nodes) == 2
    for node in nodes:
        assert set(node) == STATUS_FIELDS
        assert node["isOnline"] is True
        iso_8601(node["lastSeen"])
    assert {node["serviceID"] for node in nodes} == {"alpha", "beta"}


async def test_a_node_that_leaves_is_reported_offline(p2p: LocalNetwork) -> None:
    relay = p2p.relay
    assert relay is not None
    leaving = p2p.nodes[0]
    node_id = leaving.agent.node_id
    await leaving.stop()
    await relay.registry.wait_until(lambda: relay.registry.find(node_id) is None)
    nodes = {node["id"]: node for node in (await get(p2p, "/api/p2p/workers")).json()["nodes"]}
    assert nodes[node_id]["isOnline"] is False  # kept, reported offline
    assert nodes[p2p.nodes[1].agent.node_id]["isOnline"] is True
    stats = (await get(p2p, "/api/p2p/stats")).json()
    assert stats["workers"] == {"online": 1, "total": 2}


async def test_federation_lists_this_relay_online(p2p: LocalNetwork) -> None:
    reply = await get(p2p, "/api/p2p/federation")
    assert reply.status_code == 200, reply.text
    [relay] = reply.json()["nodes"]
    assert set(relay) == STATUS_FIELDS
    assert relay["isOnline"] is True
    assert relay["serviceID"] == "tokenplace-relay"
    assert relay["tunnelAddress"]
    iso_8601(relay["lastSeen"])


async def test_stats_count_workers_and_federated_nodes(p2p: LocalNetwork) -> None:
    reply = await get(p2p, "/api/p2p/stats")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "workers": {"online": 2, "total": 2},
        "federated": {"online": 1, "total": 1},
    }


@pytest.fixture
async def joinable(tmp_path: Path) -> AsyncIterator[LocalNetwork]:
    """A relay that requires a join token (no nodes needed) and a gateway."""
    net = LocalNetwork(tmp_path)
    await net.start_relay(operator_token=OPERATOR_TOKEN, join_token=JOIN_TOKEN)
    try:
        await net.start_gateway()
        yield net
    finally:
        await net.stop()


async def test_token_is_plain_text_for_the_operator(joinable: LocalNetwork) -> None:
    for headers in (OPERATOR, {"Authorization": f"Bearer {OPERATOR_TOKEN}"}):
        reply = await get(joinable, "/api/p2p/token", headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text == JOIN_TOKEN


async def test_token_needs_the_operator_token(joinable: LocalNetwork) -> None:
    missing = await get(joinable, "/api/p2p/token")
    wrong = await get(joinable, "/api/p2p/token", headers={"X-Token-Place-Operator": "guess"})
    assert_openai_error(missing, 401, "operator_token_invalid")
    assert_openai_error(wrong, 401, "operator_token_invalid")
    assert JOIN_TOKEN not in missing.text + wrong.text


async def test_token_404_when_the_relay_admits_nodes_without_one(p2p: LocalNetwork) -> None:
    reply = await get(p2p, "/api/p2p/token", headers=OPERATOR)
    assert_openai_error(reply, 404, "join_token_not_configured")
    assert "join token" in reply.json()["error"]["message"]


async def test_token_503_when_the_relay_has_no_operator_token(network: LocalNetwork) -> None:
    await network.start_gateway()
    reply = await get(network, "/api/p2p/token", headers=OPERATOR)
    assert_openai_error(reply, 503, "operator_auth_not_configured")


@pytest.mark.parametrize(
    "path",
    ["/api/p2p", "/api/p2p/token", "/api/p2p/workers", "/api/p2p/federation", "/api/p2p/stats"],
)
async def test_500_when_the_relay_cannot_be_reached(tmp_path: Path, path: str) -> None:
    from tokenplace.gateway.app import create_app
    from tokenplace.gateway.config import GatewaySettings

    settings = GatewaySettings(relay="127.0.0.1:9", key_path=tmp_path / "gateway.pem")
    gateway = await serve_app(create_app(settings, cached_key(settings.key_path, 100)))
    try:
        async with httpx.AsyncClient(base_url=gateway.base_url) as http:
            reply = await http.get(path, headers=OPERATOR)
    finally:
        await gateway.stop()
    assert_openai_error(reply, 500)
    message = reply.json()["error"]["message"]
    assert "P2P subsystem not available" in message and "127.0.0.1:9" in message


async def test_p2p_routes_are_documented_with_their_seed_statuses(p2p: LocalNetwork) -> None:
    paths = (await get(p2p, "/openapi.json")).json()["paths"]
    for path in ("/api/p2p", "/api/p2p/workers", "/api/p2p/federation", "/api/p2p/stats"):
        assert set(paths[path]["get"]["responses"]) == {"200", "500"}
    token = paths["/api/p2p/token"]["get"]
    assert set(token["responses"]) == {"200", "401", "404", "500", "503"}
    assert list(token["responses"]["200"]["content"]) == ["text/plain"]
    assert list(token["responses"]["401"]["content"]) == ["application/json"]
    assert token["security"]
