"""LlamaCppEngine: GGUF models through llama-cpp-python (the real default engine).

One `Llama` instance per slot (they are not thread-safe), each pinned to the
configured thread count. Chat prompts are rendered with the model's own chat
template and run through `create_completion`, which, unlike
`create_chat_completion`, takes a stopping criterion: that is how cancellation
stops generation between tokens.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.base import (
    ContextTooLong,
    EngineUnavailable,
    Generation,
    GenerationCancelled,
    GenerationRequest,
    ModelCard,
)
from tokenplace.node.engines.bundled import model_file

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage

# create_chat_completion's default; OpenAI's 1.0 is too hot for small models.
DEFAULT_CHAT_TEMPERATURE = 0.2
NOT_INSTALLED = (
    "the llama_cpp engine is not installed (no module 'llama_cpp'): run "
    "scripts/install_engine.sh PYTHON (`make install` does; it builds llama-cpp-python "
    "with GGML_NATIVE=OFF), or use --engine ctransformers"
)


def _disable_extra_buffers() -> None:
    """Make every Llama() load without AMX/repack weight buffers.

    A native llama.cpp build enables an AMX path that segfaults on these CPUs
    (shared/ENGINE.md); without extra buffer types it is never taken. It costs
    nothing for small models, so it is always on, whatever the build.
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params
    if getattr(original, "_tokenplace_safe", False):
        return

    def safe_defaults() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    safe_defaults._tokenplace_safe = True  # type: ignore[attr-defined]
    lib.llama_model_default_params = safe_defaults


def _warm_up(llm: Any) -> None:
    """Decode one short prompt before serving.

    With llama-cpp-python 0.3.36 and SmolLM2, the first sampled (temperature > 0)
    answer of a fresh context is gibberish ("Der Königin Deutschland, ..." to "What
    is the capital of Germany?" at 0.2), every time; after any one decode, answers
    are sound. Costs one one-word prompt per slot, on its first job: in the thread
    that serves it, since llama.cpp's worker threads follow the calling thread and a
    warm-up on another thread slowed every later generation by a fifth.
    """
    llm.create_completion(prompt=llm.tokenize(b"Hello", add_bos=True), max_tokens=1, temperature=0)
    llm.reset()


class LlamaCppEngine:
    name = "llama_cpp"

    def __init__(
        self, model_path: Path, card: ModelCard, slots: int, n_threads: int, n_ctx: int
    ) -> None:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError:
            raise EngineUnavailable(NOT_INSTALLED) from None

        _disable_extra_buffers()
        self.version = llama_cpp.__version__
        self.model = card
        self.slots = slots
        self.n_ctx = n_ctx
        self._pool: queue.Queue[Any] = queue.Queue()
        for _ in range(slots):
            self._pool.put(_load(llama_cpp.Llama, model_path, n_ctx, n_threads))
        self._cold: set[int] = {id(llm) for llm in self._pool.queue}
        sample = self._pool.queue[0]
        template = sample.metadata.get("tokenizer.chat_template")
        if not template:
            raise EngineUnavailable(
                f"{model_path.name} has no chat template, so it cannot serve chat: "
                "use an instruction-tuned GGUF that carries one"
            )
        eos, bos = sample.token_eos(), sample.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=_token_text(sample, eos),
            bos_token=_token_text(sample, bos),
            stop_token_ids=[eos],
        )

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> LlamaCppEngine:
        path, card = model_file(settings)
        return cls(path, card, settings.slots, settings.n_threads, settings.n_ctx)

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        llm = self._pool.get()
        try:
            if id(llm) in self._cold:
                _warm_up(llm)
                self._cold.discard(id(llm))
            return self._generate(llm, request, cancelled)
        finally:
            self._pool.put(llm)

    def _generate(
        self, llm: Any, request: GenerationRequest, cancelled: threading.Event
    ) -> Generation:
        from llama_cpp import StoppingCriteriaList

        prompt_tokens, stops, temperature = self._prompt(llm, request)
        needed = len(prompt_tokens) + (request.max_tokens or 1)
        if needed > self.n_ctx:
            raise ContextTooLong(
                f"the prompt ({len(prompt_tokens)} tokens) plus max_tokens exceeds this "
                f"model's context window of {self.n_ctx} tokens"
            )
        options: dict[str, Any] = {"temperature": temperature}
        if request.top_p is not None:
            options["top_p"] = request.top_p
        if request.seed is not None:
            options["seed"] = request.seed
        result = llm.create_completion(
            prompt=prompt_tokens,
            max_tokens=request.max_tokens or -1,
            stop=[*stops, *request.stop] or None,
            stopping_criteria=StoppingCriteriaList([lambda _ids, _logits: cancelled.is_set()]),
            **options,
        )
        if cancelled.is_set():
            raise GenerationCancelled
        choice, usage = result["choices"][0], result["usage"]
        return Generation(
            text=choice["text"],
            finish_reason="length" if choice["finish_reason"] == "length" else "stop",
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
        )

    def _prompt(self, llm: Any, request: GenerationRequest) -> tuple[list[int], list[str], float]:
        """Prompt tokens, template stop strings and temperature for `request`."""
        if request.kind == "completion":
            tokens = llm.tokenize(request.prompt.encode("utf-8"), add_bos=True, special=False)
            default = 0.8  # create_completion's default
            return tokens, [], request.temperature if request.temperature is not None else default
        rendered = self._formatter(messages=[_template_message(m) for m in request.messages])
        tokens = llm.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )
        stops = [rendered.stop] if isinstance(rendered.stop, str) else list(rendered.stop or [])
        temperature = request.temperature
        return tokens, stops, DEFAULT_CHAT_TEMPERATURE if temperature is None else temperature

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get_nowait().close()


def _load(llama_class: Any, model_path: Path, n_ctx: int, n_threads: int) -> Any:
    try:
        return llama_class(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )
    except ValueError:  # "Failed to load model from file": llama.cpp says no more
        raise EngineUnavailable(
            f"llama.cpp cannot load {model_path} (it gives no reason): "
            "check that it is a GGUF model file llama.cpp supports"
        ) from None


def _template_message(message: dict[str, Any]) -> ChatCompletionRequestMessage:
    role = "system" if message["role"] == "developer" else message["role"]
    return cast(
        "ChatCompletionRequestMessage", {"role": role, "content": message.get("content") or ""}
    )


def _token_text(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return llm.detokenize([token], special=True).decode("utf-8", errors="replace")
