"""The gateway's /metrics, X-Request-ID and per-request log line, after real traffic."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.support.network import LocalNetwork
from tests.support.prometheus import Samples

REQUESTS = "tokenplace_gateway_http_requests_total"
LATENCY = "tokenplace_gateway_http_request_duration_seconds_count"


def chat(content: str, model: str = "echo") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


async def test_requests_are_counted_by_route_template_and_status(
    echo_network: LocalNetwork,
) -> None:
    gateway = echo_network.gateways[0]
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        for _ in range(2):
            assert (await http.post("/v1/chat/completions", json=chat("hello"))).status_code == 200
        unknown = await http.post("/v1/chat/completions", json=chat("hi", model="no-such-model"))
        assert unknown.status_code == 404
        assert (await http.get("/api/v1/models/echo")).status_code == 200
        assert (await http.get("/api/v1/models/private-id-123")).status_code == 404
        assert (await http.get("/not/a/route?secret=1")).status_code == 404
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    metrics = Samples(scraped.text)
    chats = {"method": "POST", "route": "/v1/chat/completions"}
    assert metrics.value(REQUESTS, status="200", **chats) == 2
    assert metrics.value(REQUESTS, status="404", **chats) == 1
    assert metrics.value(LATENCY, status="200", **chats) == 2
    model = {"method": "GET", "route": "/api/v1/models/{model_id}"}
    assert metrics.value(REQUESTS, status="200", **model) == 1
    assert metrics.value(REQUESTS, status="404", **model) == 1
    assert metrics.value(REQUESTS, route="<unmatched>", status="404") == 1
    # The scrape itself is in flight while the page is rendered.
    assert metrics.value("tokenplace_gateway_http_requests_in_flight") == 1
    for raw in ("private-id-123", "/not/a/route", "secret", "/api/v1/models/echo"):
        assert raw not in scraped.text, "only route templates become labels"


async def test_metrics_route_is_not_in_the_openapi_schema(echo_network: LocalNetwork) -> None:
    gateway = echo_network.gateways[0]
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        schema = (await http.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("trace-42.abc_DEF:1", True),
        ("has spaces", False),
        ("x" * 129, False),
        ("quote\"'<tag>", False),
    ],
)
async def test_x_request_id_round_trips_when_sane(
    echo_network: LocalNetwork, sent: str, echoed: bool
) -> None:
    gateway = echo_network.gateways[0]
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        reply = await http.get("/v1/models", headers={"X-Request-ID": sent})
    returned = reply.headers["x-request-id"]
    if echoed:
        assert returned == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)


async def test_each_request_gets_its_own_id_and_one_log_line(
    echo_network: LocalNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = echo_network.gateways[0]
    with caplog.at_level(logging.DEBUG):
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            first = await http.post("/v1/chat/completions?user=q-secret", json=chat("p-secret"))
            second = await http.get("/v1/models")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1]
    lines = [r for r in caplog.records if r.name == "tokenplace.gateway.requests"]
    assert [r.request_id for r in lines] == ids
    assert all(r.levelno == logging.INFO for r in lines)
    assert (lines[0].method, lines[0].route, lines[0].status) == (
        "POST",
        "/v1/chat/completions",
        200,
    )
    assert lines[0].duration_ms > 0
    ours = [r for r in caplog.records if r.name.startswith("tokenplace.")]
    assert ours, "the request log lines are ours"
    everything = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    assert "p-secret" not in everything and "q-secret" not in everything
