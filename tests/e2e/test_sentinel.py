"""A unique string in a prompt never reaches relay memory, any log, or relay traffic."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.blind import retrieve_until_done
from tests.support.inspect_state import reachable_text
from tests.support.network import LocalNetwork
from tests.support.proxy import RecordingProxy
from tests.support.wire_client import WireClient
from tokenplace.e2ee import Envelope, generate_private_key, open_json, public_key_b64, seal_json
from tokenplace.node.engines.echo import EchoEngine


class CollectAll(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + json.dumps(record.__dict__, default=str))


def assert_absent(sentinel: str, texts: list[str | bytes], where: str) -> None:
    needle = sentinel.encode()
    for text in texts:
        haystack = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        assert needle not in haystack, f"the sentinel leaked into {where}"


@pytest.fixture
def logs() -> Iterator[CollectAll]:
    """Every record from every logger, at DEBUG, while the test runs."""
    collector = CollectAll()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    yield collector
    root.removeHandler(collector)
    root.setLevel(previous_level)
    assert any("relay listening" in line for line in collector.lines)  # logging was on


@pytest.fixture
async def proxied(tmp_path: Path) -> AsyncIterator[tuple[LocalNetwork, RecordingProxy]]:
    """A relay that nodes and gateways reach only through a recording proxy."""
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay()
    proxy = RecordingProxy("127.0.0.1", relay.port)
    net.relay_address_override = await proxy.start()
    try:
        yield net, proxy
    finally:
        await net.stop()
        await proxy.stop()
    assert len(proxy.recorded) > 0


async def test_sentinel_never_reaches_relay_state_logs_or_traffic(
    logs: CollectAll, proxied: tuple[LocalNetwork, RecordingProxy]
) -> None:
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    net, proxy = proxied
    relay = net.relay
    assert relay is not None
    await net.start_node(engine=EchoEngine(token_delay_seconds=0.05))
    gateway = await net.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        in_flight = asyncio.create_task(
            http.post(
                "/v1/chat/completions",
                json={
                    "model": "echo",
                    "messages": [{"role": "user", "content": f"say {sentinel}"}],
                },
            )
        )
        await relay.dispatcher.changes.wait_until(lambda: bool(relay.dispatcher.jobs()))
        mid_request = reachable_text(relay)
        assert any(isinstance(t, str) and t.startswith("req_") for t in mid_request), (
            "the state walk must reach the in-flight job record"
        )
        assert_absent(sentinel, mid_request, "relay state mid-request")
        plain = await in_flight
        assert sentinel in plain.json()["choices"][0]["message"]["content"]
        answer = await encrypted_round_trip(http, sentinel)
        assert sentinel in answer["choices"][0]["message"]["content"]
        completion = await http.post("/v1/completions", json={"model": "echo", "prompt": sentinel})
        assert sentinel in completion.json()["choices"][0]["text"]
    assert_absent(sentinel, reachable_text(relay), "relay state after requests")
    assert_absent(sentinel, [bytes(proxy.recorded)], "traffic to or from the relay")
    assert_absent(sentinel, logs.lines, "a log record")


async def encrypted_round_trip(http: httpx.AsyncClient, sentinel: str) -> dict:
    client_key = generate_private_key()
    gateway_key = (await http.get("/v1/public-key")).json()["public_key"]
    messages = [{"role": "user", "content": f"repeat {sentinel}"}]
    response = await http.post(
        "/v1/chat/completions",
        json={
            "model": "echo",
            "encrypted": True,
            "client_public_key": public_key_b64(client_key),
            "messages": seal_json(messages, gateway_key).to_json(),
        },
    )
    body = response.json()
    assert body["encrypted"] is True and sentinel not in response.text
    return open_json(Envelope.from_json(body["data"]), client_key)


async def test_blind_flow_keeps_the_sentinel_from_relay_and_gateway(
    logs: CollectAll, proxied: tuple[LocalNetwork, RecordingProxy]
) -> None:
    """A wire-format client (own key pair) through the relay-blind routes: the gateway,
    like the relay, only ever holds ciphertext."""
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    net, proxy = proxied
    relay = net.relay
    assert relay is not None
    await net.start_node()
    gateway = await net.start_gateway()
    client = WireClient()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        server_key = (await http.get("/api/v1/relay/servers/next")).json()["server_public_key"]
        inner = client.inner_request("blind-1", "echo", f"whisper {sentinel}")
        queued = await http.post(
            "/api/v1/relay/requests",
            json={
                "server_public_key": server_key,
                "client_public_key": client.public_key,
                "request_id": "blind-1",
                "cancel_token": uuid.uuid4().hex,
                **client.seal(inner, server_key),
            },
        )
        assert queued.status_code == 202
        reply = await retrieve_until_done(http, client.public_key, "blind-1")
        answer = client.open(reply.json())
        assert sentinel in answer["response"]["choices"][0]["message"]["content"]
    gateway_app = gateway.server.config.app
    assert_absent(sentinel, reachable_text(relay), "relay state")
    gateway_state = reachable_text(gateway_app.state, ("tokenplace.gateway", "starlette"))
    assert gateway_app.state.services.identity.public_key in gateway_state  # the walk got in
    assert_absent(sentinel, gateway_state, "gateway state")
    assert_absent(sentinel, [bytes(proxy.recorded)], "traffic to or from the relay")
    assert_absent(sentinel, logs.lines, "a log record")
    assert any(e.request_id == "blind-1" for e in relay.sealed.entries())
