"""EchoEngine honours max_tokens, stop sequences, token counts and cancellation."""

from __future__ import annotations

import threading

import pytest

from tokenplace.node.engines.base import Generation, GenerationCancelled, GenerationRequest
from tokenplace.node.engines.echo import EchoEngine


class WatchedEvent(threading.Event):
    """A cancel event that records waits; optionally sets itself on the n-th wait."""

    def __init__(self, set_on_wait: int | None = None) -> None:
        super().__init__()
        self.waits = 0
        self.set_on_wait = set_on_wait
        self.first_wait = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        self.first_wait.set()
        if self.waits == self.set_on_wait:
            self.set()
        return super().wait(timeout)


def chat(text: str, **options: object) -> GenerationRequest:
    return GenerationRequest(kind="chat", messages=[{"role": "user", "content": text}], **options)


def generate(request: GenerationRequest, engine: EchoEngine | None = None) -> Generation:
    return (engine or EchoEngine()).generate(request, threading.Event())


# --- output and counts -------------------------------------------------------------------


def test_echoes_last_user_message() -> None:
    result = generate(chat("hello there world"))
    assert result == Generation("echo: hello there world", "stop", 3, 4)


def test_ignores_system_and_assistant_messages_in_output() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "second"},
    ]
    result = generate(GenerationRequest(kind="chat", messages=messages))
    assert result.text == "echo: second"


def test_prompt_tokens_count_every_message() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "one two three"},
    ]
    result = generate(GenerationRequest(kind="chat", messages=messages))
    assert (result.prompt_tokens, result.completion_tokens) == (5, 4)


def test_text_completion_echoes_prompt() -> None:
    result = generate(GenerationRequest(kind="completion", prompt="once upon a time"))
    assert result == Generation("echo: once upon a time", "stop", 4, 5)


def test_model_id_is_configurable() -> None:
    assert EchoEngine(model_id="custom").model.id == "custom"
    assert EchoEngine().model.id == "echo"


# --- max_tokens ----------------------------------------------------------------------------


def test_max_tokens_truncates_with_length() -> None:
    result = generate(chat("a b c d e", max_tokens=3))
    assert result == Generation("echo: a b", "length", 5, 3)


def test_max_tokens_of_exactly_the_answer_is_a_stop() -> None:
    result = generate(chat("a b", max_tokens=3))
    assert (result.text, result.finish_reason, result.completion_tokens) == ("echo: a b", "stop", 3)


def test_max_tokens_one() -> None:
    result = generate(chat("a b", max_tokens=1))
    assert (result.text, result.finish_reason, result.completion_tokens) == ("echo:", "length", 1)


# --- stop sequences ------------------------------------------------------------------------


def test_stop_sequence_cuts_output_before_it() -> None:
    result = generate(chat("alpha beta STOP gamma", stop=("STOP",)))
    assert result.text == "echo: alpha beta "
    assert result.finish_reason == "stop"
    assert result.completion_tokens == 4


def test_stop_sequence_spanning_words() -> None:
    result = generate(chat("a b c d", stop=("b c",)))
    assert result.text == "echo: a "
    assert result.finish_reason == "stop"


def test_earliest_of_several_stop_sequences_wins() -> None:
    result = generate(chat("one two three four", stop=("four", "two")))
    assert result.text == "echo: one "


def test_stop_sequence_absent_changes_nothing() -> None:
    assert generate(chat("a b", stop=("zzz",))).text == "echo: a b"


def test_stop_beyond_max_tokens_is_not_reached() -> None:
    result = generate(chat("a b c STOP", stop=("STOP",), max_tokens=2))
    assert (result.text, result.finish_reason) == ("echo: a", "length")


# --- cancellation --------------------------------------------------------------------------


def test_cancelled_before_start_raises() -> None:
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(GenerationCancelled):
        EchoEngine().generate(chat("a b c"), cancelled)


def test_cancelled_mid_generation_stops_at_next_token() -> None:
    cancelled = WatchedEvent(set_on_wait=3)
    engine = EchoEngine(token_delay_seconds=0.001)
    with pytest.raises(GenerationCancelled):
        engine.generate(chat("a b c d e f g h"), cancelled)
    assert cancelled.waits == 3


def test_token_delay_without_cancel_completes() -> None:
    cancelled = WatchedEvent()
    result = EchoEngine(token_delay_seconds=0.001).generate(chat("a b"), cancelled)
    assert result.text == "echo: a b"
    assert cancelled.waits == 3


def test_cancel_from_another_thread_interrupts_a_long_token_delay() -> None:
    engine = EchoEngine(token_delay_seconds=60.0)
    cancelled = WatchedEvent()
    outcome: list[BaseException | Generation] = []

    def work() -> None:
        try:
            outcome.append(engine.generate(chat("a b c"), cancelled))
        except GenerationCancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    assert cancelled.first_wait.wait(timeout=5)
    cancelled.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], GenerationCancelled)
