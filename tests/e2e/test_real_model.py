"""One request through the whole network to the real SmolLM2 model (llama-cpp-python)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support.network import LocalNetwork
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.bundled import SMOLLM2

llama_cpp = pytest.importorskip("llama_cpp", reason="the llama-cpp extra is not installed")
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def smollm2() -> Iterator[object]:
    from tokenplace.node.engines.llama_cpp import LlamaCppEngine

    engine = LlamaCppEngine.from_settings(NodeSettings(engine="llama_cpp", slots=1))
    yield engine
    engine.close()


async def test_capital_of_germany_through_the_network(network: LocalNetwork, smollm2) -> None:
    await network.start_node(engine=smollm2)
    gateway = await network.start_gateway()
    client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused")
    models = await client.models.list()
    assert [m.id for m in models.data] == [SMOLLM2.id]
    reply = await client.chat.completions.create(
        model=SMOLLM2.id,
        messages=[{"role": "user", "content": "What is the capital of Germany?"}],
        temperature=0,
        max_tokens=64,
    )
    assert "Berlin" in (reply.choices[0].message.content or "")
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 10 and 0 < reply.usage.completion_tokens <= 64


async def test_max_tokens_bounds_real_generation(network: LocalNetwork, smollm2) -> None:
    await network.start_node(engine=smollm2)
    gateway = await network.start_gateway()
    client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused")
    reply = await client.completions.create(
        model=SMOLLM2.id, prompt="Once upon a time", max_tokens=5, temperature=0
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 5


def test_a_fresh_engines_first_answer_at_the_default_temperature_is_sound() -> None:
    """What a user's first `chat.completions.create` without `temperature` gets: the
    engine's first sampled answer once came out as gibberish (see `_warm_up`)."""
    import threading

    from tokenplace.node.engines.base import GenerationRequest
    from tokenplace.node.engines.llama_cpp import LlamaCppEngine

    engine = LlamaCppEngine.from_settings(NodeSettings(engine="llama_cpp", slots=1))
    try:
        question = {"role": "user", "content": "What is the capital of Germany?"}
        request = GenerationRequest(kind="chat", messages=[question], max_tokens=32)
        generation = engine.generate(request, threading.Event())
    finally:
        engine.close()
    assert "Berlin" in generation.text
