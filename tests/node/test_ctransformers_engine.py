"""CTransformersEngine with the bundled SmolLM2: limits, stops, cancellation, counts, slots."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.ctransformers import require_ctransformers_and_model, rewrite_cache
from tokenplace.node.engines.base import (
    ContextTooLong,
    EngineUnavailable,
    GenerationCancelled,
    GenerationRequest,
)
from tokenplace.node.engines.bundled import SMOLLM2, bundled_model_path
from tokenplace.node.engines.ctransformers import CTransformersEngine

require_ctransformers_and_model()
pytestmark = pytest.mark.model

GERMANY = [{"role": "user", "content": "What is the capital of Germany?"}]
STORY = "Once upon a time"


@pytest.fixture(scope="module")
def engine(xdg_cache_home: Path) -> Iterator[CTransformersEngine]:
    cache_dir = rewrite_cache(xdg_cache_home)
    loaded = CTransformersEngine(
        bundled_model_path(), SMOLLM2, slots=2, n_threads=2, n_ctx=512, cache_dir=cache_dir
    )
    yield loaded
    loaded.close()


def run(engine: CTransformersEngine, request: GenerationRequest):
    return engine.generate(request, threading.Event())


def test_greedy_chat_answers_berlin_with_real_counts(engine: CTransformersEngine) -> None:
    generation = run(engine, GenerationRequest(kind="chat", messages=GERMANY, temperature=0))
    assert generation.text == "The capital of Germany is Berlin."
    assert generation.finish_reason == "stop"
    # 37 = the ChatML prompt llama.cpp builds for this question (see test_gguf_files)
    assert (generation.prompt_tokens, generation.completion_tokens) == (37, 7)


def test_max_tokens_ends_with_length(engine: CTransformersEngine) -> None:
    request = GenerationRequest(kind="completion", prompt=STORY, max_tokens=5, temperature=0)
    generation = run(engine, request)
    assert (generation.finish_reason, generation.completion_tokens) == ("length", 5)
    assert generation.prompt_tokens == 4


def test_a_stop_string_cuts_the_text(engine: CTransformersEngine) -> None:
    greedy = GenerationRequest(kind="completion", prompt=STORY, max_tokens=16, temperature=0)
    whole = run(engine, greedy).text
    assert "city" in whole
    generation = run(engine, replace(greedy, stop=("city",)))
    assert generation.finish_reason == "stop"
    assert generation.text == whole[: whole.index("city")]
    assert generation.completion_tokens < 16


def test_cancellation_stops_between_tokens_and_frees_the_slot(engine: CTransformersEngine) -> None:
    cancelled = threading.Event()
    request = GenerationRequest(kind="completion", prompt=STORY, max_tokens=400, temperature=0)
    timer = threading.Timer(0.2, cancelled.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(GenerationCancelled):
        engine.generate(request, cancelled)
    assert time.monotonic() - started < 1.5  # 400 tokens would take ~5 s
    with pytest.raises(GenerationCancelled):  # set before it starts: not a token generated
        engine.generate(request, cancelled)
    # both slots are free again
    with ThreadPoolExecutor(2) as pool:
        short = GenerationRequest(kind="chat", messages=GERMANY, temperature=0, max_tokens=3)
        results = list(pool.map(lambda _: run(engine, short), range(2)))
    assert [r.completion_tokens for r in results] == [3, 3]


def test_a_seed_makes_sampling_repeatable(engine: CTransformersEngine) -> None:
    request = GenerationRequest(
        kind="completion", prompt=STORY, max_tokens=12, temperature=0.9, seed=7
    )
    assert run(engine, request).text == run(engine, request).text


def test_a_prompt_too_long_for_the_context(engine: CTransformersEngine) -> None:
    request = GenerationRequest(kind="completion", prompt=STORY, max_tokens=510)
    with pytest.raises(ContextTooLong):
        run(engine, request)


def test_a_library_that_does_not_load_is_one_line(xdg_cache_home: Path, monkeypatch) -> None:
    import tokenplace.node.engines.ctransformers as module

    monkeypatch.setattr(module, "cpu_library", lambda: "/nonexistent/libctransformers.so")
    with pytest.raises(EngineUnavailable) as unavailable:
        CTransformersEngine(
            bundled_model_path(), SMOLLM2, 1, 1, 256, cache_dir=rewrite_cache(xdg_cache_home)
        )
    message = str(unavailable.value)
    assert "\n" not in message
    assert message.startswith("ctransformers' /nonexistent/libctransformers.so library")
    assert "--engine llama_cpp" in message


@pytest.mark.parametrize(
    ("cores", "slots", "n_threads", "expected"),
    [(2, 1, 2, 2), (2, 2, 2, 1), (8, 2, 4, 4), (8, 3, 4, 2), (2, 4, 1, 1), (2, 1, 4, 2)],
)
def test_slots_never_run_more_threads_than_cores(
    monkeypatch, cores: int, slots: int, n_threads: int, expected: int
) -> None:
    import tokenplace.node.engines.ctransformers as module

    monkeypatch.setattr(module.os, "cpu_count", lambda: cores)
    assert module.threads_per_slot(slots, n_threads) == expected
