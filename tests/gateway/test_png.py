"""gateway.png: a valid PNG by the spec, and a deterministic, seed-sensitive placeholder."""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass

import pytest

from tokenplace.gateway.images.png import PNG_SIGNATURE, encode_png, render_placeholder


@dataclass
class DecodedPNG:
    width: int
    height: int
    pixels: bytes  # RGB rows, filter bytes removed
    chunk_types: list[bytes]


def decode_png(data: bytes) -> DecodedPNG:
    """Parse an 8-bit RGB PNG strictly: signature, every chunk's CRC, IHDR, zlib'd IDAT size."""
    assert data[:8] == PNG_SIGNATURE
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, offset + 8 + length)
        assert len(body) == length, f"{kind!r} chunk truncated"
        assert crc == zlib.crc32(kind + body), f"bad CRC on {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    assert offset == len(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    assert all(raw[y * stride] == 0 for y in range(height)), "expected filter type 0"
    pixels = b"".join(raw[y * stride + 1 : (y + 1) * stride] for y in range(height))
    return DecodedPNG(width, height, pixels, kinds)


def test_encode_png_round_trips_pixels() -> None:
    rows = [bytes([255, 0, 0, 0, 255, 0]), bytes([0, 0, 255, 10, 20, 30])]
    png = encode_png(2, 2, rows)
    decoded = decode_png(png)
    assert (decoded.width, decoded.height) == (2, 2)
    assert decoded.pixels == b"".join(rows)
    assert decoded.chunk_types == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize(
    ("width", "height", "rows"),
    [
        (0, 1, [b""]),
        (1, 0, []),
        (2, 1, [b"\x00\x00\x00"]),  # row too short
        (1, 2, [b"\x00\x00\x00"]),  # too few rows
    ],
)
def test_encode_png_rejects_bad_geometry(width: int, height: int, rows: list[bytes]) -> None:
    with pytest.raises(ValueError):
        encode_png(width, height, rows)


@pytest.mark.parametrize(("width", "height"), [(32, 32), (33, 97), (1024, 32), (32, 1024)])
def test_placeholder_has_the_requested_size(width: int, height: int) -> None:
    decoded = decode_png(render_placeholder("a lighthouse", width, height, 7))
    assert (decoded.width, decoded.height) == (width, height)
    assert len(decoded.pixels) == 3 * width * height


def test_placeholder_is_deterministic() -> None:
    assert render_placeholder("a cat", 64, 48, 1) == render_placeholder("a cat", 64, 48, 1)
    assert render_placeholder("a cat", 64, 48, None) == render_placeholder("a cat", 64, 48, None)


@pytest.mark.parametrize(
    "other",
    [("a cat", 2), ("a dog", 1), ("a cat", None), ("a cat", 0)],
    ids=["seed", "prompt", "no-seed", "seed-zero"],
)
def test_placeholder_pixels_depend_on_prompt_and_seed(other: tuple[str, int | None]) -> None:
    base = decode_png(render_placeholder("a cat", 64, 64, 1)).pixels
    assert decode_png(render_placeholder(other[0], 64, 64, other[1])).pixels != base


def test_placeholder_is_not_a_flat_colour() -> None:
    pixels = decode_png(render_placeholder("a cat", 64, 64, 1)).pixels
    colours = {pixels[i : i + 3] for i in range(0, len(pixels), 3)}
    assert len(colours) > 16


def test_largest_placeholder_renders_fast() -> None:
    start = time.perf_counter()
    render_placeholder("a wide landscape at dusk", 1024, 1024, 2**32 - 1)
    assert time.perf_counter() - start < 0.5
