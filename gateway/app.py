"""create_app: the FastAPI application, its lifespan and its routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from tokenplace.e2ee import load_or_create_private_key
from tokenplace.gateway.account_client import AccountClient
from tokenplace.gateway.community_client import CommunityClient
from tokenplace.gateway.completions import CompletionService
from tokenplace.gateway.config import GatewaySettings
from tokenplace.gateway.errors import install_error_handlers
from tokenplace.gateway.instance_client import InstanceClient
from tokenplace.gateway.jobs import AsyncJobs
from tokenplace.gateway.limits import BodySizeLimit
from tokenplace.gateway.metrics import GatewayMetrics, ObservedRequests
from tokenplace.gateway.monitoring_client import MonitoringClient
from tokenplace.gateway.openapi import install_openapi
from tokenplace.gateway.relay_client import RelayClient
from tokenplace.gateway.relay_services import OperatorClient, PollingClient, SealedClient
from tokenplace.gateway.routers import (
    account,
    community,
    completions,
    images,
    instances,
    internal,
    jobs,
    meta,
    models,
    operator,
    p2p,
    relay_blind,
    relay_nodes,
    release,
)

# The seed registers OpenAI-compatible aliases under /v1 for these routers only.
ALIASED_ROUTERS = (
    models.router,
    completions.router,
    meta.router,
    operator.router,
    images.router,
)
API_V1_ONLY_ROUTERS = (relay_blind.router, relay_nodes.router, release.router, community.router)


def create_app(settings: GatewaySettings, private_key: rsa.RSAPrivateKey | None = None) -> FastAPI:
    """The gateway app. `private_key` overrides the key file (tests reuse keys)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = RelayClient(settings.relay, settings.control_timeout_seconds)
        key = private_key or load_or_create_private_key(settings.key_path)
        app.state.settings = settings
        app.state.relay = relay
        app.state.completions = CompletionService(relay, key, settings)
        timeout = settings.control_timeout_seconds
        app.state.sealed = SealedClient(relay.channel, timeout)
        app.state.polling = PollingClient(relay.channel, timeout)
        app.state.operator = OperatorClient(relay.channel, timeout)
        app.state.community = CommunityClient(relay.channel, timeout)
        app.state.accounts = AccountClient(relay.channel, timeout)
        app.state.jobs = AsyncJobs(app.state.completions, app.state.sealed)
        app.state.instances = InstanceClient(relay.channel, timeout)
        app.state.monitoring = MonitoringClient(relay.channel, timeout, settings.relay)
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
    install_openapi(app, body_models=completions.BODY_MODELS)
    for router in ALIASED_ROUTERS:
        app.include_router(router, prefix="/api/v1")
        app.include_router(router, prefix="/v1")
    for router in API_V1_ONLY_ROUTERS:
        app.include_router(router, prefix="/api/v1")
    app.include_router(internal.router)
    app.include_router(account.router, prefix="/api")
    app.include_router(jobs.router, prefix="/api")
    app.include_router(instances.router, prefix="/api")
    app.include_router(p2p.router, prefix="/api")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost, so 413s and every other answer are counted and carry X-Request-ID.
    metrics = GatewayMetrics()
    app.state.metrics = metrics
    app.add_api_route("/metrics", metrics.endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(ObservedRequests, metrics=metrics)
    return app
