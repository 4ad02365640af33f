"""A GGUF file's key/value metadata, read without the `gguf` package.

gguf.GGUFReader takes ~2 s on SmolLM2 (it makes numpy views for every vocabulary
string); this plain reader takes ~0.1 s and needs nothing installed.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

# GGUF value types: struct formats of the scalars, and the two composite kinds.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}  # fmt: skip
_STRING, _ARRAY = 8, 9


def read_metadata(path: Path) -> dict[str, Any]:
    """A GGUF file's metadata (not its tensors), strings decoded as UTF-8.

    Raises ValueError when `path` is not a readable GGUF (version 2 or later) file.
    """
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path.name} is not a GGUF file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                return _read(data, path.name)
            except (struct.error, KeyError):  # a length past the end, an unknown type
                raise ValueError(f"{path.name} is a truncated or corrupt GGUF file") from None


def _read(data: mmap.mmap, name: str) -> dict[str, Any]:
    pos = 0

    def take(fmt: str) -> Any:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]

    def text() -> str:
        nonlocal pos
        size = take("<Q")
        if pos + size > len(data):
            raise struct.error("a string runs past the end of the file")
        pos += size
        return data[pos - size : pos].decode("utf-8", errors="replace")

    def value(kind: int) -> Any:
        if kind == _STRING:
            return text()
        if kind == _ARRAY:
            item, count = take("<IQ")
            return [value(item) for _ in range(count)]
        return take(_SCALARS[kind])

    _magic, version, _tensors, count = take("<4sIQQ")
    if version < 2:
        raise ValueError(f"{name} is a GGUF version {version} file; version 2 or later is needed")
    return {text(): value(take("<I")) for _ in range(count)}
