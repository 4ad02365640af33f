"""Every malformed request gets a 4xx in the OpenAI error shape: never a 422, 500 or hang."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.network import LocalNetwork

GOOD = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}

BAD_CHAT_BODIES: list[tuple[str, dict[str, Any], str | None]] = [
    ("missing model", {"messages": GOOD["messages"]}, "model"),
    ("empty model", {**GOOD, "model": ""}, "model"),
    ("missing messages", {"model": "echo"}, "messages"),
    ("empty messages", {**GOOD, "messages": []}, "messages"),
    ("messages not a list", {**GOOD, "messages": "hi"}, "messages"),
    ("bad role", {**GOOD, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    (
        "content a number",
        {**GOOD, "messages": [{"role": "user", "content": 5}]},
        "messages[0].content",
    ),
    ("temperature too high", {**GOOD, "temperature": 2.5}, "temperature"),
    ("temperature a string", {**GOOD, "temperature": "hot"}, "temperature"),
    ("top_p zero", {**GOOD, "top_p": 0}, "top_p"),
    ("max_tokens zero", {**GOOD, "max_tokens": 0}, "max_tokens"),
    ("max_tokens negative", {**GOOD, "max_tokens": -5}, "max_tokens"),
    ("five stop sequences", {**GOOD, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ("empty stop sequence", {**GOOD, "stop": [""]}, "stop"),
    ("seed a float", {**GOOD, "seed": 1.5}, "seed"),
    ("n of two", {**GOOD, "n": 2}, "n"),
    ("stream true", {**GOOD, "stream": True}, "stream"),
]


def assert_openai_error(response: httpx.Response, status: int, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], str)
    if param is not None:
        assert error["param"] == param


@pytest.fixture
async def http(echo_network: LocalNetwork):
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url, timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    ("case", "body", "param"), BAD_CHAT_BODIES, ids=[c[0] for c in BAD_CHAT_BODIES]
)
async def test_bad_chat_body_is_400_naming_the_param(
    http: httpx.AsyncClient, case: str, body: dict[str, Any], param: str | None
) -> None:
    response = await http.post("/v1/chat/completions", json=body)
    assert_openai_error(response, 400, param)
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "echo"}, "prompt"),
        ({"model": "echo", "prompt": ["a", "b"]}, "prompt"),
        ({"model": "echo", "prompt": 42}, "prompt"),
        ({"model": "echo", "prompt": "x", "stream": True}, "stream"),
        ({"model": "echo", "prompt": "x", "max_tokens": 0}, "max_tokens"),
    ],
)
async def test_bad_completion_body_is_400(
    http: httpx.AsyncClient, body: dict[str, Any], param: str
) -> None:
    assert_openai_error(await http.post("/api/v1/completions", json=body), 400, param)


async def test_invalid_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/chat/completions",
        content=b'{"model": "echo", "messages": [',
        headers={"content-type": "application/json"},
    )
    assert_openai_error(response, 400)
    assert "JSON" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/v1/completions"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_not_sent_as_json_is_400_saying_so(
    http: httpx.AsyncClient, path: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = b'{"model": "echo", "prompt": "x", "messages": [{"role": "user", "content": "x"}]}'
    response = await http.post(path, content=body, headers=headers)
    assert_openai_error(response, 400)
    assert "Content-Type: application/json" in response.json()["error"]["message"]


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(http: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = await http.post(
            "/v1/chat/completions", json=GOOD, headers={"content-type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)


async def test_body_that_is_not_an_object_is_400(http: httpx.AsyncClient) -> None:
    assert_openai_error(await http.post("/v1/chat/completions", json=["not", "an", "object"]), 400)


async def test_oversized_body_is_413(http: httpx.AsyncClient) -> None:
    huge = {**GOOD, "messages": [{"role": "user", "content": "x" * (5 * 1024 * 1024)}]}
    assert_openai_error(await http.post("/v1/chat/completions", json=huge), 413)


async def test_unknown_route_and_wrong_method(http: httpx.AsyncClient) -> None:
    assert_openai_error(await http.get("/v1/no-such-thing"), 404)
    assert_openai_error(await http.get("/v1/chat/completions"), 405)


async def test_unknown_fields_are_ignored(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/chat/completions", json={**GOOD, "presence_penalty": 0.1, "user": "u-1", "n": 1}
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "echo: hi"


async def test_relay_down_is_503(tmp_path) -> None:
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay()
    gateway = await net.start_gateway()
    await relay.stop(grace=0)
    try:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
            response = await client.post("/v1/chat/completions", json=GOOD)
            assert_openai_error(response, 503)
            assert response.json()["error"]["code"] == "rate_limit_unavailable"
            models = await client.get("/v1/models")
            assert_openai_error(models, 503)
            health = (await client.get("/v1/health")).json()
            assert health["status"] == "degraded" and health["relay"] == "unreachable"
    finally:
        net.relay = None
        await net.stop()
