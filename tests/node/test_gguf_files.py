"""GGUF in Python: metadata, tokenizer and chat template as llama.cpp reads them; the rewrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ctransformers import require_bundled_model, rewrite_cache
from tokenplace.node.engines.gguf_files.metadata import read_metadata
from tokenplace.node.engines.gguf_files.tokenizer import (
    TextDecoder,
    gpt2_unicode_to_byte,
    load_tokenizer,
)

TEXTS = [
    "What is the capital of Germany?",
    "Hello  world,   how are\tyou?\n\n\nFine!  ",
    "I'm sure they'll say it's JOHN'S car; we've DON'T",
    "Numbers: 12345, 3.14159, 1,000,000 and ٣٤٥ and ½",
    "Ünïcödé — “quotes” … 日本語のテキスト 한국어 😀👍🏽",
    "def f(x):\n    return x**2  # square\n\tpass\r\n",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "literal <|im_end|>inside<|endoftext|> text <repo_name>",
    "   leading spaces and trailing   ",
]
CHATS = [
    [{"role": "user", "content": "What is the capital of Germany?"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "Und 3 \u00d7 3? 😀"},
    ],
]


def test_gpt2_alphabet_covers_every_byte_once() -> None:
    alphabet = gpt2_unicode_to_byte()
    assert sorted(alphabet.values()) == list(range(256))
    assert alphabet["Ġ"] == ord(" ") and alphabet["Ċ"] == ord("\n") and alphabet["a"] == ord("a")


def test_text_decoder_holds_back_a_split_utf8_character() -> None:
    decoder = TextDecoder([b"caf", b"\xc3", b"\xa9", b"\xe2\x82"])
    assert [decoder.push(0), decoder.push(1), decoder.push(2)] == ["caf", "", "é"]
    assert decoder.push(3) == ""
    assert decoder.flush() == "\ufffd"


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match=r"x\.bin is not a GGUF file"):
        read_metadata(tmp_path / "x.bin")


# --- the bundled SmolLM2 against llama-cpp-python ---------------------------------------


@pytest.fixture(scope="module")
def smollm2_path() -> Path:
    require_bundled_model()
    from tokenplace.node.engines.bundled import bundled_model_path

    return bundled_model_path()


@pytest.fixture(scope="module")
def llama_vocab(smollm2_path: Path):
    """llama-cpp-python with only the vocabulary loaded (~0.1 s)."""
    llama_cpp = pytest.importorskip("llama_cpp", reason="the engine extra is not installed")
    from tokenplace.node.engines.llama_cpp import _disable_extra_buffers

    _disable_extra_buffers()
    vocab = llama_cpp.Llama(model_path=str(smollm2_path), vocab_only=True, verbose=False)
    yield vocab
    vocab.close()


def test_metadata_of_the_bundled_model(smollm2_path: Path) -> None:
    metadata = read_metadata(smollm2_path)
    assert metadata["general.architecture"] == "llama"
    assert metadata["tokenizer.ggml.model"] == "gpt2"
    assert len(metadata["tokenizer.ggml.tokens"]) == 49152
    assert "<|im_start|>" in metadata["tokenizer.chat_template"]


@pytest.mark.parametrize("special", [True, False])
def test_token_ids_equal_llama_cpps(smollm2_path: Path, llama_vocab, special: bool) -> None:
    pytest.importorskip("tokenizers", reason="the ctransformers extra is not installed")
    ours = load_tokenizer(read_metadata(smollm2_path))
    for text in TEXTS:
        theirs = llama_vocab.tokenize(text.encode(), add_bos=False, special=special)
        assert ours.encode(text, special=special) == theirs, text
        assert b"".join(ours.token_bytes[t] for t in theirs) == llama_vocab.detokenize(theirs)
    assert ours.add_bos is False  # SmolLM2 asks for none: llama.cpp adds none either
    assert llama_vocab.tokenize(b"Hi", add_bos=True) == ours.encode("Hi", special=False)


def test_chat_prompts_render_as_llama_cpps_formatter(smollm2_path: Path, llama_vocab) -> None:
    pytest.importorskip("jinja2", reason="the ctransformers extra is not installed")
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from tokenplace.node.engines.gguf_files.chat_template import ChatTemplate

    ours = load_tokenizer(read_metadata(smollm2_path))
    template = ChatTemplate(ours.chat_template or "", "<|im_start|>", "<|im_end|>")
    formatter = Jinja2ChatFormatter(
        template=llama_vocab.metadata["tokenizer.chat_template"],
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
    )
    for chat in CHATS:
        assert template.render(chat) == formatter(messages=chat).prompt


# --- the rewrite ctransformers needs ---------------------------------------------------


def test_the_rewrite_is_made_once_and_has_what_ctransformers_needs(
    smollm2_path: Path, xdg_cache_home: Path
) -> None:
    pytest.importorskip("gguf", reason="the ctransformers extra is not installed")
    from tokenplace.node.engines.gguf_files.ctransformers_rewrite import cached_rewrite

    cache_dir = rewrite_cache(xdg_cache_home)  # the session's copy: made at most once
    (copy,) = cache_dir.glob("*.gguf")
    made = copy.stat().st_mtime_ns
    assert cached_rewrite(smollm2_path, cache_dir) == copy
    assert copy.stat().st_mtime_ns == made

    original, rewritten = read_metadata(smollm2_path), read_metadata(copy)
    tokens = original["tokenizer.ggml.tokens"]
    assert rewritten["tokenizer.ggml.scores"] == [0.0] * len(tokens)
    the = tokens.index("Ġthe")
    assert rewritten["tokenizer.ggml.tokens"][the] == " the"  # raw bytes, not GPT-2's alphabet
    assert rewritten["tokenizer.ggml.tokens"][:3] == tokens[:3]  # control tokens unchanged
    assert rewritten["tokenizer.chat_template"] == original["tokenizer.chat_template"]
    # output.weight added: a second copy of the 49152 x 576 embeddings (>= 4 bits each)
    assert copy.stat().st_size - smollm2_path.stat().st_size > 49152 * 576 // 2


def test_the_cache_key_follows_content_not_path(
    smollm2_path: Path, xdg_cache_home: Path, tmp_path: Path
) -> None:
    pytest.importorskip("gguf", reason="the ctransformers extra is not installed")
    from tokenplace.node.engines.gguf_files.ctransformers_rewrite import cached_rewrite

    cache_dir = rewrite_cache(xdg_cache_home)
    elsewhere = tmp_path / smollm2_path.name  # the same model in another install
    elsewhere.symlink_to(smollm2_path)
    assert cached_rewrite(elsewhere, cache_dir) == cached_rewrite(smollm2_path, cache_dir)
