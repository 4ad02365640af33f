"""create_app: the FastAPI application, its lifespan and its routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from e2ee import load_or_create_private_key
from gateway.completions import CompletionService
from gateway.config import GatewaySettings
from gateway.errors import install_error_handlers
from gateway.limits import BodySizeLimit
from gateway.relay_client import RelayClient
from gateway.routers import completions, meta, models

API_PREFIXES = ("/api/v1", "/v1")


def create_app(settings: GatewaySettings, private_key: rsa.RSAPrivateKey | None = None) -> FastAPI:
    """The gateway app. `private_key` overrides the key file (tests reuse keys)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = RelayClient(settings.relay, settings.control_timeout_seconds)
        key = private_key or load_or_create_private_key(settings.key_path)
        app.state.settings = settings
        app.state.relay = relay
        app.state.completions = CompletionService(relay, key, settings)
        try:
            yield
        finally:
            await relay.close()

    app = FastAPI(
        title="token.place API",
        version="0.1.0",
        summary="OpenAI-compatible, end-to-end encrypted inference on a peer-to-peer network.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for prefix in API_PREFIXES:
        for router in (models.router, completions.router, meta.router):
            app.include_router(router, prefix=prefix)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
