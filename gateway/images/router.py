"""POST /images/generations: a deterministic local placeholder image, OpenAI's response shape."""

from __future__ import annotations

import asyncio
import base64
import time

from fastapi import APIRouter, FastAPI

from tokenplace.gateway.images.png import render_placeholder
from tokenplace.gateway.images.protocol import (
    ImageData,
    ImageGenerationRequest,
    ImageGenerationResponse,
)
from tokenplace.gateway.mounting import OPENAI_COMPATIBLE, mount
from tokenplace.gateway.openapi import error_responses

router = APIRouter(tags=["images"])


def attach(app: FastAPI) -> None:
    mount(app, router, OPENAI_COMPATIBLE)


@router.post(
    "/images/generations",
    response_model=ImageGenerationResponse,
    response_model_exclude_none=True,
    responses=error_responses(400),
)
async def generate_image(body: ImageGenerationRequest) -> ImageGenerationResponse:
    """Generates a local placeholder image from a validated prompt and size."""
    width, height = body.dimensions()
    png = await asyncio.to_thread(render_placeholder, body.prompt, width, height, body.seed)
    return ImageGenerationResponse(
        created=int(time.time()),
        data=[ImageData(b64_json=base64.b64encode(png).decode(), revised_prompt=body.prompt)],
        size=f"{width}x{height}",
        seed=body.seed,
    )
