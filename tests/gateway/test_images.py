"""POST /images/generations through a live gateway: PNG, determinism, and every 400."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.test_bad_requests import assert_openai_error
from tests.gateway.test_png import DecodedPNG, decode_png
from tests.support.network import serve_app
from tests.support.network import test_key as cached_key
from tokenplace.gateway.app import create_app
from tokenplace.gateway.config import GatewaySettings

URL = "/api/v1/images/generations"


def gateway_settings(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    """Test settings. No relay runs: these routes never call it (gRPC channels connect lazily)."""
    return GatewaySettings(
        **{"relay": "127.0.0.1:1", "key_path": tmp_path / "gateway.pem", **overrides}
    )


@asynccontextmanager
async def live_gateway(settings: GatewaySettings) -> AsyncIterator[str]:
    """A gateway with no relay behind it (these routes never call one), on port 0."""
    app = create_app(settings, private_key=cached_key(settings.key_path, 100))
    gateway = await serve_app(app)
    try:
        yield gateway.base_url
    finally:
        await gateway.stop()


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        live_gateway(gateway_settings(tmp_path)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        yield client


async def generate(http: httpx.AsyncClient, url: str = URL, **body: Any) -> dict[str, Any]:
    response = await http.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def image_of(payload: dict[str, Any]) -> DecodedPNG:
    return decode_png(base64.b64decode(payload["data"][0]["b64_json"], validate=True))


async def test_response_shape_and_valid_png(http: httpx.AsyncClient) -> None:
    before = int(time.time())
    payload = await generate(http, prompt="  a red fox \n", size="64x48", seed=42)
    assert set(payload) == {"created", "data", "size", "seed"}
    assert before <= payload["created"] <= int(time.time())
    assert len(payload["data"]) == 1
    assert set(payload["data"][0]) == {"b64_json", "revised_prompt"}
    assert payload["data"][0]["revised_prompt"] == "a red fox"
    assert payload["size"] == "64x48"
    assert payload["seed"] == 42
    png = image_of(payload)
    assert (png.width, png.height) == (64, 48)


async def test_defaults_512_square_and_omits_seed(http: httpx.AsyncClient) -> None:
    payload = await generate(http, prompt="a red fox")
    assert payload["size"] == "512x512"
    assert payload.get("seed") is None
    png = image_of(payload)
    assert (png.width, png.height) == (512, 512)


async def test_openai_parameters_are_accepted_or_ignored(http: httpx.AsyncClient) -> None:
    payload = await generate(
        http,
        prompt="a red fox",
        size="32x32",
        n=1,
        response_format="b64_json",
        model="dall-e-3",
        quality="hd",
        user="someone",
        seed=None,
    )
    assert image_of(payload).width == 32


async def test_same_request_gives_byte_identical_png(http: httpx.AsyncClient) -> None:
    first = await generate(http, prompt="a red fox", size="96x64", seed=7)
    second = await generate(http, prompt="  a red fox", size="96x64", seed=7)
    assert first["data"][0]["b64_json"] == second["data"][0]["b64_json"]


@pytest.mark.parametrize("change", [{"seed": 8}, {"prompt": "a blue fox"}, {"seed": None}], ids=str)
async def test_seed_or_prompt_changes_the_pixels(
    http: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    base = {"prompt": "a red fox", "size": "96x64", "seed": 7}
    first = image_of(await generate(http, **base))
    other = image_of(await generate(http, **{**base, **change}))
    assert first.pixels != other.pixels


@pytest.mark.parametrize("size", ["32x32", "1024x1024", "32x1024", "1024x32"])
async def test_size_bounds_are_inclusive(http: httpx.AsyncClient, size: str) -> None:
    payload = await generate(http, prompt="bounds", size=size)
    png = image_of(payload)
    assert f"{png.width}x{png.height}" == size == payload["size"]


async def test_width_and_height_match_the_size_form(http: httpx.AsyncClient) -> None:
    by_sides = await generate(http, prompt="a red fox", width=80, height=40, seed=3)
    by_size = await generate(http, prompt="a red fox", size="80x40", seed=3)
    assert by_sides["size"] == "80x40"
    assert by_sides["data"][0]["b64_json"] == by_size["data"][0]["b64_json"]


@pytest.mark.parametrize("sides", [(32, 32), (1024, 1024)])
async def test_width_and_height_bounds_are_inclusive(
    http: httpx.AsyncClient, sides: tuple[int, int]
) -> None:
    png = image_of(await generate(http, prompt="bounds", width=sides[0], height=sides[1]))
    assert (png.width, png.height) == sides


async def test_v1_alias_serves_the_same_image(http: httpx.AsyncClient) -> None:
    body = {"prompt": "a red fox", "size": "48x48", "seed": 11}
    api = await generate(http, **body)
    alias = await generate(http, url="/v1/images/generations", **body)
    assert api["data"][0]["b64_json"] == alias["data"][0]["b64_json"]


OK = {"prompt": "a red fox"}
BAD_IMAGE_BODIES: list[tuple[str, Any, str | None]] = [
    ("missing prompt", {"size": "64x64"}, "prompt"),
    ("empty prompt", {"prompt": ""}, "prompt"),
    ("blank prompt", {"prompt": " \n\t "}, "prompt"),
    ("prompt a number", {"prompt": 5}, "prompt"),
    ("prompt too long", {"prompt": "x" * 4001}, "prompt"),
    ("size not WxH", {**OK, "size": "large"}, "size"),
    ("size with spaces", {**OK, "size": "64 x 64"}, "size"),
    ("size negative", {**OK, "size": "-64x64"}, "size"),
    ("size a number", {**OK, "size": 512}, "size"),
    ("size width 31", {**OK, "size": "31x64"}, "size"),
    ("size height 31", {**OK, "size": "64x31"}, "size"),
    ("size width 1025", {**OK, "size": "1025x64"}, "size"),
    ("size height 1025", {**OK, "size": "64x1025"}, "size"),
    ("width 31", {**OK, "width": 31, "height": 64}, "width"),
    ("width 1025", {**OK, "width": 1025, "height": 64}, "width"),
    ("height 31", {**OK, "width": 64, "height": 31}, "height"),
    ("height 1025", {**OK, "width": 64, "height": 1025}, "height"),
    ("width a string", {**OK, "width": "64", "height": 64}, "width"),
    ("width a float", {**OK, "width": 64.5, "height": 64}, "width"),
    ("width without height", {**OK, "width": 64}, "height"),
    ("height without width", {**OK, "height": 64}, "width"),
    ("size with width and height", {**OK, "size": "64x64", "width": 64, "height": 64}, "size"),
    ("seed negative", {**OK, "seed": -1}, "seed"),
    ("seed too large", {**OK, "seed": 2**32}, "seed"),
    ("seed a float", {**OK, "seed": 1.5}, "seed"),
    ("seed a string", {**OK, "seed": "7"}, "seed"),
    ("seed a bool", {**OK, "seed": True}, "seed"),
    ("n of two", {**OK, "n": 2}, "n"),
    ("n of zero", {**OK, "n": 0}, "n"),
    ("response_format url", {**OK, "response_format": "url"}, "response_format"),
    ("body a list", [OK], None),
]


@pytest.mark.parametrize(
    ("case", "body", "param"), BAD_IMAGE_BODIES, ids=[c[0] for c in BAD_IMAGE_BODIES]
)
async def test_bad_image_body_is_400_naming_the_param(
    http: httpx.AsyncClient, case: str, body: Any, param: str | None
) -> None:
    response = await http.post(URL, json=body)
    assert_openai_error(response, 400, param)
    assert response.json()["error"]["param"] == param


async def test_seed_bounds_are_inclusive(http: httpx.AsyncClient) -> None:
    for seed in (0, 2**32 - 1):
        assert (await generate(http, prompt="seed", size="32x32", seed=seed))["seed"] == seed


async def test_invalid_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        URL, content=b'{"prompt": ', headers={"content-type": "application/json"}
    )
    assert_openai_error(response, 400)


async def test_openapi_documents_the_route(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    operation = spec["paths"][URL]["post"]
    assert {"200", "400"} <= set(operation["responses"])
