"""The image generation request (OpenAI's parameters, validated) and response."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from tokenplace.gateway.errors import APIError

MIN_SIDE = 32
MAX_SIDE = 1024
MAX_PROMPT_CHARS = 4000
MAX_SEED = 2**32 - 1
DEFAULT_SIZE = "512x512"
_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")

Side = Annotated[StrictInt, Field(ge=MIN_SIDE, le=MAX_SIDE)]


def parse_size(size: str) -> tuple[int, int]:
    """(width, height) from "WIDTHxHEIGHT"; ValueError unless both sides are in bounds."""
    match = _SIZE.fullmatch(size)
    if match is None:
        raise ValueError('must be "WIDTHxHEIGHT", e.g. "512x512"')
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"each side must be between {MIN_SIDE} and {MAX_SIDE} pixels")
    return width, height


class ImageGenerationRequest(BaseModel):
    # Unknown OpenAI parameters (model, quality, style, user...) are ignored.
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(
        description="Trimmed; 1 to 4000 characters.",
        json_schema_extra={"pattern": r"\S"},  # not blank: what _trimmed_prompt checks first
    )
    size: str | None = Field(default=None, description=f'"WIDTHxHEIGHT"; default {DEFAULT_SIZE}')
    width: Side | None = Field(default=None, description="With height, instead of size.")
    height: Side | None = Field(default=None, description="With width, instead of size.")
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] | None = None
    n: Literal[1] | None = None
    response_format: Literal["b64_json"] | None = None

    @field_validator("prompt")
    @classmethod
    def _trimmed_prompt(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_PROMPT_CHARS:
            raise ValueError(f"must be at most {MAX_PROMPT_CHARS} characters")
        return value

    @field_validator("size")
    @classmethod
    def _valid_size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)
        return value

    def dimensions(self) -> tuple[int, int]:
        """(width, height) from size, or width + height, or the default; APIError if mixed."""
        if self.width is None and self.height is None:
            return parse_size(self.size or DEFAULT_SIZE)
        if self.size is not None:
            raise _bad_param("size", "send either size or width and height, not both")
        if self.width is None:
            raise _bad_param("width", "required when height is given")
        if self.height is None:
            raise _bad_param("height", "required when width is given")
        return self.width, self.height


class ImageData(BaseModel):
    b64_json: str
    revised_prompt: str


class ImageGenerationResponse(BaseModel):
    created: int
    data: list[ImageData]
    size: str
    seed: int | None = None


def _bad_param(param: str, message: str) -> APIError:
    return APIError(400, f"{param}: {message}", "invalid_request", param)
