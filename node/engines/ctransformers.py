"""CTransformersEngine: GGUF models through ctransformers 0.2.27 (no compiler needed).

ctransformers ships prebuilt CPU libraries, so it installs in seconds where
llama-cpp-python builds for minutes; it generates ~8% slower (`make bench`). Its
llama.cpp is from September 2023, so the engine works around three things:

- the GGUF is rewritten once into a cache (gguf_files/ctransformers_rewrite.py),
  so the old loader accepts it;
- prompts are chat-templated and tokenized in Python (gguf_files/), exactly as
  llama-cpp-python does, because ctransformers' own tokenizer splits text
  differently: same prompt ids, so the same answers and the same usage counts;
- sampling goes token by token through ctransformers' low-level API (eval/sample),
  which gives cancellation between tokens, stop strings and real token counts.

One `LLM` per slot: each holds its own KV cache and token history and is not
thread-safe. Its C calls release the GIL, so slots run in parallel. Their threads
must not outnumber the cores: this ggml's threads spin at every barrier, and two
2-thread slots on 2 cores stalled each other (two concurrent 64-token answers took
20 s instead of 1.5 s); so past the core count each slot gets its share of cores.
"""

from __future__ import annotations

import importlib.metadata
import os
import queue
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tokenplace.node.engines.base import (
    ContextTooLong,
    EngineUnavailable,
    Generation,
    GenerationCancelled,
    GenerationRequest,
    ModelCard,
)
from tokenplace.node.engines.bundled import model_file
from tokenplace.node.engines.ctransformers_loading import (
    cpu_library,
    import_ctransformers,
    load_llm,
    load_tokenizer_and_template,
    rewritten_model,
)

if TYPE_CHECKING:
    from tokenplace.node.config import NodeSettings

# Same defaults as the llama_cpp engine / llama-cpp-python's create_completion.
DEFAULT_CHAT_TEMPERATURE = 0.2
DEFAULT_COMPLETION_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.95
TOP_K = 40
# Prompt tokens per llama_eval call; cancellation is checked between batches.
PROMPT_BATCH = 128
# Control tokens that end a turn, besides the GGUF's eos id (llama.cpp's "EOG" set).
END_OF_TURN_TEXTS = ("<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")
# Its ggml has a fixed table of 64 contexts per process: each slot holds two and
# takes a third while it evaluates; the 32nd slot segfaults at load. 16 is safe.
MAX_SLOTS = 16


def default_cache_dir() -> Path:
    """Where rewritten models are kept: $XDG_CACHE_HOME/tokenplace/ctransformers."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tokenplace" / "ctransformers"


@dataclass(frozen=True, slots=True)
class _Plan:
    """A request turned into token ids and sampling settings."""

    prompt: list[int]
    limit: int  # most tokens to generate
    stops: tuple[str, ...]
    temperature: float
    top_p: float
    seed: int | None


class CTransformersEngine:
    name = "ctransformers"

    def __init__(
        self,
        model_path: Path,
        card: ModelCard,
        slots: int,
        n_threads: int,
        n_ctx: int,
        cache_dir: Path | None = None,
    ) -> None:
        if slots > MAX_SLOTS:
            raise EngineUnavailable(
                f"the ctransformers engine runs at most {MAX_SLOTS} slots per process "
                f"(asked for {slots}): lower --slots (TOKENPLACE_NODE_SLOTS)"
            )
        llm_class, config_class = import_ctransformers()
        self.version = importlib.metadata.version("ctransformers")
        self.model = card
        self.slots = slots
        self.n_ctx = n_ctx
        self._tokenizer, self._template = load_tokenizer_and_template(model_path)
        tok = self._tokenizer
        controls = (i for i, raw in enumerate(tok.token_bytes) if not raw)
        self._end_ids = {tok.eos_id} | {
            i for i in controls if tok.token_text(i) in END_OF_TURN_TEXTS
        }
        rewritten = rewritten_model(model_path, cache_dir or default_cache_dir())
        self.threads_per_slot = threads_per_slot(slots, n_threads)
        config = config_class(
            context_length=n_ctx, threads=self.threads_per_slot, batch_size=PROMPT_BATCH
        )
        library = cpu_library()
        self._pool: queue.Queue[Any] = queue.Queue()
        for _ in range(slots):
            self._pool.put(load_llm(llm_class, rewritten, config, library))

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> CTransformersEngine:
        path, card = model_file(settings)
        return cls(path, card, settings.slots, settings.n_threads, settings.n_ctx)

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        plan = self._plan(request)
        llm = self._pool.get()
        try:
            return self._generate(llm, plan, cancelled)
        finally:
            self._pool.put(llm)

    def close(self) -> None:
        # Dropping the last reference frees the model (LLM.__del__).
        while not self._pool.empty():
            self._pool.get_nowait()

    def _plan(self, request: GenerationRequest) -> _Plan:
        tok = self._tokenizer
        if request.kind == "completion":
            # As the llama_cpp engine: BOS if the model asks for one, no control tokens.
            prompt = [tok.bos_id] if tok.add_bos else []
            prompt += tok.encode(request.prompt, special=False)
            stops: tuple[str, ...] = ()
            default_temperature = DEFAULT_COMPLETION_TEMPERATURE
        else:
            if self._template is None:
                raise ValueError(f"{self.model.id} has no chat template; it cannot serve chat")
            rendered = self._template.render([_template_message(m) for m in request.messages])
            prompt = tok.encode(rendered, special=True)  # the template writes any BOS itself
            stops = (self._template.eos_token,)
            default_temperature = DEFAULT_CHAT_TEMPERATURE
        if not prompt:
            raise ValueError("the prompt is empty")
        room = self.n_ctx - len(prompt)
        limit = request.max_tokens if request.max_tokens and request.max_tokens > 0 else room
        if limit > room:
            raise ContextTooLong(
                f"the prompt ({len(prompt)} tokens) plus max_tokens exceeds this "
                f"model's context window of {self.n_ctx} tokens"
            )
        temperature = request.temperature
        return _Plan(
            prompt=prompt,
            limit=limit,
            stops=tuple(s for s in (*stops, *request.stop) if s),
            temperature=default_temperature if temperature is None else temperature,
            top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
            seed=request.seed,
        )

    def _generate(self, llm: Any, plan: _Plan, cancelled: threading.Event) -> Generation:
        # Reuses the KV cache for the prefix this slot evaluated last time (e.g. the
        # system prompt); at least one token is always evaluated, for fresh logits.
        pending = llm.prepare_inputs_for_generation(plan.prompt, reset=True)
        for start in range(0, len(pending), PROMPT_BATCH):
            if cancelled.is_set():
                raise GenerationCancelled
            llm.eval(pending[start : start + PROMPT_BATCH])

        # ctransformers reseeds its RNG on every sample() call (with the clock when
        # seed < 0), so each token gets its own seed from one per-request generator.
        seeds = random.Random(plan.seed)
        decoder = self._tokenizer.text_decoder()
        longest_stop = max(map(len, plan.stops), default=0)
        text, generated = "", 0
        finish: Literal["stop", "length"] = "length"
        while generated < plan.limit:
            if cancelled.is_set():
                raise GenerationCancelled
            token = _sample(llm, plan, seeds)
            if token in self._end_ids:
                finish = "stop"
                break
            generated += 1
            seen = max(0, len(text) - longest_stop + 1)  # stops cannot start before
            text += decoder.push(token)
            cut = _stop_index(text, plan.stops, seen)
            if cut is not None:
                return Generation(text[:cut], "stop", len(plan.prompt), generated)
            if generated < plan.limit:
                llm.eval([token])
        text += decoder.flush()
        return Generation(text, finish, len(plan.prompt), generated)


def threads_per_slot(slots: int, n_threads: int) -> int:
    """n_threads, unless all slots at once would run more threads than there are cores."""
    cores = os.cpu_count() or 1
    return n_threads if slots * n_threads <= cores else max(1, cores // slots)


def _sample(llm: Any, plan: _Plan, seeds: random.Random) -> int:
    if plan.temperature <= 0:  # greedy: the single most likely token
        return llm.sample(
            top_k=1, top_p=1.0, temperature=1.0, repetition_penalty=1.0, last_n_tokens=1, seed=0
        )
    return llm.sample(
        top_k=TOP_K,
        top_p=plan.top_p,
        temperature=plan.temperature,
        repetition_penalty=1.0,  # llama-cpp-python's default: off
        last_n_tokens=1,
        seed=seeds.randrange(2**31),
    )


def _stop_index(text: str, stops: tuple[str, ...], start: int) -> int | None:
    """Where the earliest stop string in text[start:] begins, if any."""
    found = [i for i in (text.find(s, start) for s in stops) if i >= 0]
    return min(found) if found else None


def _template_message(message: dict[str, Any]) -> dict[str, Any]:
    role = "system" if message["role"] == "developer" else message["role"]
    return {"role": role, "content": message.get("content") or ""}
