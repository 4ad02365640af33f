"""Where each API area's routes are mounted: every feature folder's `attach(app)` uses
these prefixes, and the app attaches every feature the same way."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

# The token.place API v1 routes, with their OpenAI-compatible aliases under /v1.
OPENAI_COMPATIBLE = ("/api/v1", "/v1")
API_V1 = ("/api/v1",)
# Token Router's and LocalAI's management routes.
API = ("/api",)


def mount(app: FastAPI, router: APIRouter, prefixes: Iterable[str]) -> None:
    for prefix in prefixes:
        app.include_router(router, prefix=prefix)
