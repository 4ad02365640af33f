"""FastAPI dependencies: the process-wide services, stored on app.state by the lifespan."""

from __future__ import annotations

from fastapi import Request

from gateway.completions import CompletionService
from gateway.relay_client import RelayClient


# async on purpose: FastAPI runs sync dependencies in a worker thread, a hop per request.
async def completion_service(request: Request) -> CompletionService:
    return request.app.state.completions


async def relay_client(request: Request) -> RelayClient:
    return request.app.state.relay
