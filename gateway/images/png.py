"""A dependency-free PNG writer and the deterministic placeholder image behind /images/generations.

The placeholder is a two-axis gradient with a few solid bands and blocks, all derived from
sha256(prompt|seed): the same prompt, size and seed always give byte-identical PNGs. Rows are
assembled with bytes multiplication and bytearray slices, so a 1024x1024 image takes tens of
milliseconds rather than the seconds a per-pixel Python loop would.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Gradients are drawn in steps: at most this many distinct colours per axis.
_GRADIENT_STEPS = 128
_COMPRESSION_LEVEL = 6

RGB = tuple[int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type + data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(width: int, height: int, rgb_rows: Iterable[bytes]) -> bytes:
    """An 8-bit truecolour PNG from `height` rows of `3 * width` RGB bytes each."""
    if width < 1 or height < 1:
        raise ValueError("a PNG needs at least one pixel")
    rows = list(rgb_rows)
    if len(rows) != height or any(len(row) != 3 * width for row in rows):
        raise ValueError(f"expected {height} rows of {3 * width} bytes")
    # Filter type 0 (None) before every row: b"\x00" + row0 + b"\x00" + row1 ...
    raw = b"\x00" + b"\x00".join(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, _COMPRESSION_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


@dataclass(frozen=True, slots=True)
class _Rect:
    x0: int
    y0: int
    x1: int
    y1: int
    fill: bytes  # one RGB pixel


class _Digest:
    """A deterministic byte stream: sha256(prompt|seed), extended by counter-mode hashing."""

    def __init__(self, prompt: str, seed: int | None) -> None:
        self._key = f"{prompt}|{'' if seed is None else seed}".encode()
        self._buffer = b""
        self._counter = 0

    def take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            block = self._key + self._counter.to_bytes(4, "big")
            self._buffer += hashlib.sha256(block).digest()
            self._counter += 1
        out, self._buffer = self._buffer[:count], self._buffer[count:]
        return out

    def colour(self) -> RGB:
        r, g, b = self.take(3)
        return r, g, b

    def fraction(self) -> float:
        return int.from_bytes(self.take(2), "big") / 0xFFFF


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _spans(length: int) -> list[tuple[int, int, float]]:
    """Split 0..length into at most _GRADIENT_STEPS (start, end, t) spans, t in 0..1."""
    steps = min(length, _GRADIENT_STEPS)
    bounds = [length * i // steps for i in range(steps + 1)]
    return [(bounds[i], bounds[i + 1], i / max(steps - 1, 1)) for i in range(steps)]


def _gradient_row(left: RGB, right: RGB, x_spans: list[tuple[int, int, float]]) -> bytes:
    return b"".join(bytes(_mix(left, right, t)) * (end - start) for start, end, t in x_spans)


def _shapes(digest: _Digest, width: int, height: int) -> list[_Rect]:
    """Two full-width bands and up to three blocks, placed and coloured by the digest."""
    shapes = []
    for _ in range(2):
        y0 = int(digest.fraction() * height * 0.9)
        thickness = max(1, int(height * (0.02 + 0.06 * digest.fraction())))
        shapes.append(_Rect(0, y0, width, min(height, y0 + thickness), bytes(digest.colour())))
    for _ in range(1 + digest.take(1)[0] % 3):
        x0, y0 = int(digest.fraction() * width * 0.8), int(digest.fraction() * height * 0.8)
        w = max(1, int(width * (0.08 + 0.2 * digest.fraction())))
        h = max(1, int(height * (0.08 + 0.2 * digest.fraction())))
        fill = bytes(digest.colour())
        shapes.append(_Rect(x0, y0, min(width, x0 + w), min(height, y0 + h), fill))
    return shapes


def placeholder_rows(prompt: str, width: int, height: int, seed: int | None) -> Iterator[bytes]:
    """The placeholder's RGB rows, top to bottom."""
    digest = _Digest(prompt, seed)
    top_left, top_right, bottom_left, bottom_right = (digest.colour() for _ in range(4))
    x_spans, y_spans = _spans(width), _spans(height)
    level_rows = [
        _gradient_row(_mix(top_left, bottom_left, t), _mix(top_right, bottom_right, t), x_spans)
        for _, _, t in y_spans
    ]
    row_levels = [level for level, (start, end, _) in enumerate(y_spans) for _ in range(start, end)]
    shapes = _shapes(digest, width, height)
    for y, level in enumerate(row_levels):
        covering = [s for s in shapes if s.y0 <= y < s.y1]
        if not covering:
            yield level_rows[level]
            continue
        row = bytearray(level_rows[level])
        for shape in covering:
            row[3 * shape.x0 : 3 * shape.x1] = shape.fill * (shape.x1 - shape.x0)
        yield bytes(row)


def render_placeholder(prompt: str, width: int, height: int, seed: int | None = None) -> bytes:
    """A deterministic PNG for prompt, size and seed (None is its own, distinct seed)."""
    return encode_png(width, height, placeholder_rows(prompt, width, height, seed))
