"""`tokenplace node --engine ctransformers` serves SmolLM2 through the whole network.

The node is the real command in a child process (registry, settings, engine, cache,
agent); relay and gateway run in process; the caller is the official openai SDK.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from tests.support.ctransformers import require_ctransformers_and_model, rewrite_cache
from tests.support.network import LocalNetwork
from tests.support.processes import ROOT
from tokenplace.node.engines.base import GenerationRequest
from tokenplace.node.engines.bundled import SMOLLM2, bundled_model_path

require_ctransformers_and_model()
pytestmark = pytest.mark.model

QUESTION = [{"role": "user", "content": "What is the capital of Germany?"}]


@pytest.fixture
async def ctransformers_node(
    network: LocalNetwork, xdg_cache_home: Path, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    rewrite_cache(xdg_cache_home)  # the session's copy, so this node only loads it
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg_cache_home), "HOME": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "node",
        "--engine",
        "ctransformers",
        "--relay",
        network.relay_address,
        "--key-path",
        str(tmp_path / "node.pem"),
        "--slots",
        "1",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.communicate()


async def wait_for_model(client: openai.AsyncOpenAI, node: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60):
        while SMOLLM2.id not in [m.id for m in (await client.models.list()).data]:
            if node.returncode is not None:
                output = await node.stdout.read() if node.stdout else b""
                pytest.fail(f"the node exited ({node.returncode}):\n{output.decode()}")
            await asyncio.sleep(0.1)


def llama_cpp_usage() -> tuple[str, int, int] | None:
    """(text, prompt_tokens, completion_tokens) of the llama_cpp engine for QUESTION."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return None
    from tokenplace.node.engines.llama_cpp import LlamaCppEngine

    engine = LlamaCppEngine(bundled_model_path(), SMOLLM2, slots=1, n_threads=2, n_ctx=512)
    try:
        request = GenerationRequest(kind="chat", messages=QUESTION, temperature=0, max_tokens=64)
        generation = engine.generate(request, threading.Event())
    finally:
        engine.close()
    return generation.text, generation.prompt_tokens, generation.completion_tokens


async def test_capital_of_germany_through_the_network(
    network: LocalNetwork, ctransformers_node: asyncio.subprocess.Process
) -> None:
    gateway = await network.start_gateway()
    client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused")
    await wait_for_model(client, ctransformers_node)
    reply = await client.chat.completions.create(
        model=SMOLLM2.id, messages=QUESTION, temperature=0, max_tokens=64
    )
    answer = reply.choices[0].message.content or ""
    assert "Berlin" in answer
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    usage = (reply.usage.prompt_tokens, reply.usage.completion_tokens)

    # Real token counts: those of the llama_cpp engine, which tokenizes with llama.cpp
    # itself, for the same chat (37 prompt tokens with SmolLM2's template).
    reference = await asyncio.to_thread(llama_cpp_usage)
    if reference is None:
        assert usage == (37, 7)
    else:
        text, prompt_tokens, completion_tokens = reference
        assert (answer, *usage) == (text, prompt_tokens, completion_tokens)
    assert reply.usage.total_tokens == sum(usage)
