"""create_app: the FastAPI application, its lifespan and its API areas.

Each API area is a folder with its router, its HTTP models (protocol.py) and, where it
has one, its service; every area is attached the same way, `router.attach(app)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from tokenplace.client.relay import RelayClient
from tokenplace.e2ee import load_or_create_private_key
from tokenplace.gateway.accounts import router as accounts
from tokenplace.gateway.body_size import BodySizeLimit
from tokenplace.gateway.chat import router as chat
from tokenplace.gateway.chat.jobs import AsyncJobs
from tokenplace.gateway.chat.service import CompletionService
from tokenplace.gateway.community import router as community
from tokenplace.gateway.config import GatewaySettings
from tokenplace.gateway.errors import install_error_handlers
from tokenplace.gateway.identity import GatewayIdentity
from tokenplace.gateway.images import router as images
from tokenplace.gateway.instances import router as instances
from tokenplace.gateway.meta import router as meta
from tokenplace.gateway.metrics import GatewayMetrics, ObservedRequests
from tokenplace.gateway.models import router as models
from tokenplace.gateway.openapi import install_openapi
from tokenplace.gateway.operator import router as operator
from tokenplace.gateway.p2p import router as p2p
from tokenplace.gateway.polling import router as polling
from tokenplace.gateway.sealed import router as sealed
from tokenplace.gateway.services import Services

# In mounting order (the OpenAPI document lists routes in this order).
AREAS = (models, chat, meta, operator, images, sealed, polling, community, accounts, instances, p2p)


def create_app(settings: GatewaySettings, private_key: rsa.RSAPrivateKey | None = None) -> FastAPI:
    """The gateway app. `private_key` overrides the key file (tests reuse keys)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        key = private_key or load_or_create_private_key(settings.key_path)
        app.state.services = build_services(settings, key)
        try:
            yield
        finally:
            await app.state.services.relay.close()

    app = FastAPI(
        title="token.place API",
        version="0.1.0",
        summary="OpenAI-compatible, end-to-end encrypted inference on a peer-to-peer network.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app, body_models=chat.BODY_MODELS)
    for area in AREAS:
        area.attach(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost, so 413s and every other answer are counted and carry X-Request-ID.
    metrics = GatewayMetrics()
    app.state.metrics = metrics
    app.add_api_route("/metrics", metrics.endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(ObservedRequests, metrics=metrics)
    return app


def build_services(settings: GatewaySettings, private_key: rsa.RSAPrivateKey) -> Services:
    relay = RelayClient(settings.relay, settings.control_timeout_seconds)
    identity = GatewayIdentity(private_key)
    return Services(
        settings=settings,
        relay=relay,
        identity=identity,
        completions=CompletionService(relay.inference, identity, settings),
        jobs=AsyncJobs(relay.inference, relay.sealed, identity),
    )
