"""Rewrite a GGUF so ctransformers 0.2.27 can load it, once, into a cache.

ctransformers 0.2.27 (September 2023) embeds the llama.cpp of that month. Its GGUF
loader predates three things SmolLM2-style files (byte-level BPE, tied
embeddings) rely on:

1. `tokenizer.ggml.scores` is mandatory ("cannot find tokenizer scores"); BPE files
   written today have none. Zeros are right: BPE ranks come from the merges.
2. An `output.weight` tensor is mandatory; models with tied embeddings have none,
   so we add a copy of `token_embd.weight` (newer llama.cpp falls back to it).
3. For "gpt2" (byte-level BPE) vocabularies it expects tokens and merges as raw
   bytes, not in GPT-2's printable byte-to-unicode alphabet ("Ġthe" is " the").
   Without this, loading tokenizes "\\n" to find the line-feed token, misses, and
   reads past the end of a map. (Merges are converted too, for consistency; the
   engine never uses ctransformers' own tokenizer: see tokenizer.py.)

Everything else (metadata, tensor bytes, order) is copied unchanged, so the output
is a deterministic function of the input.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from tokenplace.node.engines.gguf_files.tokenizer import (
    NORMAL_TOKEN,
    gpt2_unicode_to_byte,
    to_raw_bytes,
)

log = logging.getLogger(__name__)

# Bump when the rewrite's output changes: it is part of the cache key.
REWRITE_VERSION = 1
# The cache key hashes this much of the file's head (header, metadata and the first
# tensors) and tail, with its size: ~10 ms, where hashing 100 MB would take ~0.3 s.
KEY_SAMPLE_BYTES = 4 << 20


def cached_rewrite(src: Path, cache_dir: Path) -> Path:
    """The rewritten copy of `src` in `cache_dir`, made on first use (~2.5 s for SmolLM2).

    Keyed by the file's content (sampled, see KEY_SAMPLE_BYTES), not its path, so
    every install of one model shares one copy. A new copy replaces older ones of
    the same file name, so upgrades do not pile up 130 MB copies. Concurrent first
    uses each write a temporary file and rename it into place.
    """
    dst = cache_dir / f"{src.stem}.ctransformers-{_content_key(src)}.gguf"
    if not dst.exists():
        log.info("writing the ctransformers copy of %s to %s (once)", src.name, dst)
        cache_dir.mkdir(parents=True, exist_ok=True)
        gguf_log = logging.getLogger("gguf")  # it logs every file it writes at INFO
        level = gguf_log.level
        gguf_log.setLevel(max(level, logging.WARNING))
        try:
            rewrite_for_ctransformers(src, dst)
        finally:
            gguf_log.setLevel(level)
        for stale in cache_dir.glob(f"{src.stem}.ctransformers-*.gguf"):
            if stale != dst:
                stale.unlink(missing_ok=True)
    return dst


def _content_key(src: Path) -> str:
    digest = hashlib.sha256(f"v{REWRITE_VERSION}".encode())
    with src.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        digest.update(str(size).encode())
        f.seek(0)
        digest.update(f.read(KEY_SAMPLE_BYTES))
        f.seek(max(0, size - KEY_SAMPLE_BYTES))
        digest.update(f.read(KEY_SAMPLE_BYTES))
    return digest.hexdigest()[:16]


def rewrite_for_ctransformers(src: Path, dst: Path) -> None:
    """Write to `dst` a copy of `src` that ctransformers 0.2.27 loads (see module doc)."""
    from gguf import GGUFReader, GGUFValueType, GGUFWriter

    reader = GGUFReader(src)
    fields = reader.fields
    tokenizer = fields["tokenizer.ggml.model"].contents()
    tokens: list[str] = fields["tokenizer.ggml.tokens"].contents()
    types: list[int] = fields["tokenizer.ggml.token_type"].contents()

    replaced: dict[str, list[bytes] | list[float]] = {}
    if tokenizer == "gpt2":
        alphabet = gpt2_unicode_to_byte()
        replaced["tokenizer.ggml.tokens"] = [
            to_raw_bytes(t, alphabet) if kind == NORMAL_TOKEN else t.encode()
            for t, kind in zip(tokens, types, strict=True)
        ]
        replaced["tokenizer.ggml.merges"] = [
            b" ".join(to_raw_bytes(part, alphabet) for part in merge.split(" "))
            for merge in fields["tokenizer.ggml.merges"].contents()
        ]
    if "tokenizer.ggml.scores" not in fields:
        replaced["tokenizer.ggml.scores"] = [0.0] * len(tokens)

    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    writer = GGUFWriter(tmp, fields["general.architecture"].contents())
    writer.data_alignment = reader.alignment
    for field in fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # written by GGUFWriter itself
        kind = field.types[0]
        sub = field.types[-1] if kind == GGUFValueType.ARRAY else None
        value = replaced.pop(field.name, None) or field.contents()
        writer.add_key_value(field.name, value, kind, sub_type=sub)
    if "tokenizer.ggml.scores" in replaced:
        writer.add_key_value(
            "tokenizer.ggml.scores",
            replaced.pop("tokenizer.ggml.scores"),
            GGUFValueType.ARRAY,
            sub_type=GGUFValueType.FLOAT32,
        )

    tensors = list(reader.tensors)
    names = {t.name for t in tensors}
    if "output.weight" not in names and "token_embd.weight" in names:
        embeddings = next(t for t in tensors if t.name == "token_embd.weight")
        tensors.append(embeddings._replace(name="output.weight"))
    for t in tensors:
        writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for t in tensors:
            writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
        writer.close()
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
