"""What every route may use, built once per app by its lifespan (`Services`), and the
FastAPI dependency that hands it over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tokenplace.client.relay import RelayClient
from tokenplace.gateway.chat.jobs import AsyncJobs
from tokenplace.gateway.chat.service import CompletionService
from tokenplace.gateway.config import GatewaySettings
from tokenplace.gateway.identity import GatewayIdentity


@dataclass(frozen=True, slots=True)
class Services:
    settings: GatewaySettings
    relay: RelayClient
    identity: GatewayIdentity
    completions: CompletionService
    jobs: AsyncJobs


# async on purpose: FastAPI runs sync dependencies in a worker thread, a hop per request.
async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
