"""FastAPI dependencies: the process-wide services, stored on app.state by the lifespan."""

from __future__ import annotations

from fastapi import Request

from tokenplace.gateway.completions import CompletionService
from tokenplace.gateway.relay_client import RelayClient
from tokenplace.gateway.relay_services import OperatorClient, PollingClient, SealedClient


# async on purpose: FastAPI runs sync dependencies in a worker thread, a hop per request.
async def completion_service(request: Request) -> CompletionService:
    return request.app.state.completions


async def relay_client(request: Request) -> RelayClient:
    return request.app.state.relay


async def sealed_client(request: Request) -> SealedClient:
    return request.app.state.sealed


async def polling_client(request: Request) -> PollingClient:
    return request.app.state.polling


async def operator_client(request: Request) -> OperatorClient:
    return request.app.state.operator
