"""The official openai SDK against a live relay, echo node and gateway."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.support.network import LocalNetwork


def sdk(net: LocalNetwork, prefix: str = "/v1") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=net.gateways[0].base_url + prefix, api_key="unused", max_retries=0
    )


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_models_list_and_retrieve(echo_network: LocalNetwork, prefix: str) -> None:
    client = sdk(echo_network, prefix)
    models = await client.models.list()
    assert [m.id for m in models.data] == ["echo"]
    model = await client.models.retrieve("echo")
    assert model.id == "echo" and model.object == "model" and model.owned_by == "token.place"
    raw = model.model_dump()
    assert raw["root"] == "echo" and raw["parent"] is None
    assert raw["permission"][0]["id"] == "modelperm-echo"
    assert raw["permission"][0]["object"] == "model_permission"


async def test_retrieve_unknown_model_is_404(echo_network: LocalNetwork) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk(echo_network).models.retrieve("no-such-model")
    assert caught.value.body["code"] == "model_not_found"


async def test_chat_completion(echo_network: LocalNetwork) -> None:
    reply = await sdk(echo_network).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "hello token place"}]
    )
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content == "echo: hello token place"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (3, 4)
    assert reply.usage.total_tokens == 7


async def test_sampling_parameters_reach_the_engine(echo_network: LocalNetwork) -> None:
    reply = await sdk(echo_network).chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three four five"}],
        max_tokens=3,
        temperature=0.5,
        top_p=0.9,
        seed=7,
        stop=["never"],
    )
    assert reply.choices[0].message.content == "echo: one two"
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


async def test_stop_sequence_is_honoured(echo_network: LocalNetwork) -> None:
    reply = await sdk(echo_network).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "alpha beta gamma"}], stop=["gamma"]
    )
    assert reply.choices[0].message.content == "echo: alpha beta "
    assert reply.choices[0].finish_reason == "stop"


async def test_legacy_completion(echo_network: LocalNetwork) -> None:
    reply = await sdk(echo_network).completions.create(model="echo", prompt="write a poem")
    assert reply.object == "text_completion"
    assert reply.choices[0].text == "echo: write a poem"
    assert reply.usage is not None and reply.usage.prompt_tokens == 3


async def test_stream_is_rejected(echo_network: LocalNetwork) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk(echo_network).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    assert caught.value.body["param"] == "stream"
    with pytest.raises(openai.BadRequestError):
        await sdk(echo_network).completions.create(model="echo", prompt="hi", stream=True)


async def test_unknown_model_in_chat(echo_network: LocalNetwork) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk(echo_network).chat.completions.create(
            model="gpt-17", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.body == {
        "message": caught.value.body["message"],
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


async def test_no_node_online_is_503(network: LocalNetwork) -> None:
    await network.start_gateway()
    with pytest.raises(openai.InternalServerError) as caught:
        await sdk(network).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "no_compute_node_available"
    assert caught.value.response.headers["retry-after"]


async def test_health_and_public_key(echo_network: LocalNetwork) -> None:
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url) as http:
        for prefix in ("/api/v1", "/v1"):
            health = (await http.get(f"{prefix}/health")).json()
            assert health["status"] == "ok" and health["service"] == "token.place"
            assert health["version"] and health["timestamp"]
            key = (await http.get(f"{prefix}/public-key")).json()["public_key"]
            assert key.startswith("LS0tLS1CRUdJTiBQVUJMSUMgS0VZ")  # base64 of a PEM header
