"""A GGUF's byte-level BPE tokenizer, rebuilt with the `tokenizers` package.

ctransformers' built-in tokenizer (its 2023 llama.cpp) uses a std::regex that
splits spaces and digits differently from SmolLM2's own pre-tokenizer, and so
would feed the model token sequences it never saw in training. Instead we build a
`tokenizers` BPE from the vocabulary and merges inside the GGUF, with the
pre-tokenizer today's llama.cpp uses for the file's `tokenizer.ggml.pre`: prompts
then tokenize to exactly the ids the llama_cpp engine feeds the same model.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass, field
from typing import Any

# llama.cpp's token types (LLAMA_TOKEN_TYPE_*; 5 and 6 are "unused" and "byte").
NORMAL_TOKEN, UNKNOWN_TOKEN, CONTROL_TOKEN, USER_DEFINED_TOKEN = 1, 2, 3, 4
# Which types llama.cpp matches by their literal text before BPE, with special=True/False.
MATCHED_BY_TEXT = {
    True: {UNKNOWN_TOKEN, CONTROL_TOKEN, USER_DEFINED_TOKEN},
    False: {USER_DEFINED_TOKEN},
}

# tokenizer.ggml.pre -> whether digits are split one by one before the GPT-2 regex
# (llama.cpp's STARCODER/SMOLLM pre-tokenizer); "gpt-2" uses the GPT-2 regex alone.
DIGIT_SPLITTING_PRE = {"smollm": True, "starcoder": True, "refact": True, "gpt-2": False}


def gpt2_unicode_to_byte() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: printable stand-in character -> byte.

    Bytes that are printable Latin-1 stand for themselves; the other 68 bytes are
    shifted to U+0100 onward, in byte order. GGUF vocabularies are written in it
    ("Ġthe" is b" the").
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    mapping = {chr(b): b for b in printable}
    shifted = (b for b in range(256) if b not in set(printable))
    for n, b in enumerate(shifted):
        mapping[chr(256 + n)] = b
    return mapping


def to_raw_bytes(token: str, alphabet: dict[str, int]) -> bytes:
    try:
        return bytes(alphabet[ch] for ch in token)
    except KeyError:
        raise ValueError(f"token {token!r} is not in GPT-2's byte-level alphabet") from None


@dataclass
class GgufTokenizer:
    metadata: dict[str, Any]
    tokenizer: Any  # tokenizers.Tokenizer; control-token texts become their ids
    token_bytes: list[bytes]  # what each id decodes to (b"" for control tokens)
    bos_id: int
    eos_id: int
    add_bos: bool  # tokenizer.ggml.add_bos_token: BOS before a plain-text prompt
    chat_template: str | None
    _plain: Any = field(default=None, repr=False)  # built on first use: see encode()
    _plain_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, text: str, special: bool) -> list[int]:
        """Token ids for `text`, like llama-cpp-python's tokenize(text, special=...).

        special=True (rendered chat prompts): control-token texts such as
        <|im_start|> become their ids. special=False (completion prompts): they are
        ordinary text, so a caller cannot inject control tokens; user-defined
        tokens still match, as in llama.cpp.
        """
        if special:
            return self.tokenizer.encode(text, add_special_tokens=False).ids
        return self._plain_tokenizer().encode(text, add_special_tokens=False).ids

    def text_decoder(self) -> TextDecoder:
        return TextDecoder(self.token_bytes)

    def token_text(self, token: int) -> str:
        """The literal text of a token, e.g. "<|im_end|>" for a control token."""
        if token < 0:
            return ""
        return self.tokenizer.id_to_token(token) or ""

    def _plain_tokenizer(self) -> Any:
        with self._plain_lock:
            if self._plain is None:
                self._plain = _build(self.metadata, special=False)
            return self._plain


class TextDecoder:
    """Turns generated ids into text, holding back the bytes of a split UTF-8 character."""

    def __init__(self, token_bytes: list[bytes]) -> None:
        self._token_bytes = token_bytes
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, token: int) -> str:
        return self._utf8.decode(self._token_bytes[token])

    def flush(self) -> str:
        """What is left at the end: a dangling partial character becomes U+FFFD."""
        return self._utf8.decode(b"", final=True)


def load_tokenizer(metadata: dict[str, Any]) -> GgufTokenizer:
    """The tokenizer of an *original* GGUF's metadata (tokens in GPT-2's alphabet).

    Raises ValueError for tokenizers other than byte-level BPE with a GPT-2 or
    SmolLM/StarCoder pre-tokenizer, and ImportError without `tokenizers`.
    """
    model = metadata.get("tokenizer.ggml.model")
    pre = metadata.get("tokenizer.ggml.pre", "gpt-2")
    if model != "gpt2" or pre not in DIGIT_SPLITTING_PRE:
        raise ValueError(f"its tokenizer ({model}/{pre}) is not one this engine rebuilds")
    tokens: list[str] = metadata["tokenizer.ggml.tokens"]
    types: list[int] = metadata["tokenizer.ggml.token_type"]
    # As llama.cpp detokenizes without special=True: control tokens print nothing,
    # user-defined ones their literal text.
    alphabet = gpt2_unicode_to_byte()
    token_bytes = [
        to_raw_bytes(t, alphabet)
        if kind == NORMAL_TOKEN
        else (b"" if kind == CONTROL_TOKEN else t.encode())
        for t, kind in zip(tokens, types, strict=True)
    ]
    return GgufTokenizer(
        metadata=metadata,
        tokenizer=_build(metadata, special=True),
        token_bytes=token_bytes,
        bos_id=metadata.get("tokenizer.ggml.bos_token_id", -1),
        eos_id=metadata.get("tokenizer.ggml.eos_token_id", -1),
        # llama.cpp's default for BPE vocabularies is no BOS; the file may say otherwise.
        add_bos=bool(metadata.get("tokenizer.ggml.add_bos_token", False)),
        chat_template=metadata.get("tokenizer.chat_template"),
    )


def _build(metadata: dict[str, Any], special: bool) -> Any:
    """A `tokenizers` BPE; with special=False, control-token texts are plain text."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tokens: list[str] = metadata["tokenizer.ggml.tokens"]
    types: list[int] = metadata["tokenizer.ggml.token_type"]
    merges = [tuple(m.split(" ", 1)) for m in metadata["tokenizer.ggml.merges"]]
    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if DIGIT_SPLITTING_PRE[metadata.get("tokenizer.ggml.pre", "gpt-2")]:
        digits = pre_tokenizers.Digits(individual_digits=True)
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([digits, byte_level])
    else:
        tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    matched = [t for t, kind in zip(tokens, types, strict=True) if kind in MATCHED_BY_TEXT[special]]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in matched])
    return tokenizer
