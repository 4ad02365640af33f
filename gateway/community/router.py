"""Community routes: provider directories, model feedback, contribution offers, server nodes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request

from tokenplace.client.types import ServerPool
from tokenplace.gateway.callers import operator_token
from tokenplace.gateway.community.protocol import (
    ContributionIn,
    ContributionQueued,
    ContributionSummaryOut,
    FeedbackIn,
    FeedbackRecorded,
    LeaderboardOut,
    ProviderList,
)
from tokenplace.gateway.mounting import API_V1, mount
from tokenplace.gateway.openapi import OPERATOR_SECURITY, error_responses
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["community"])


def attach(app: FastAPI) -> None:
    mount(app, router, API_V1)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The statuses a route can answer, plus 503: the relay is unreachable."""
    return error_responses(*statuses, 503)


@router.get("/community/providers", response_model=ProviderList, responses=_errors(500))
async def community_providers(services: ServicesDep) -> ProviderList:
    """Community-operated relay and server providers."""
    listing = await services.relay.community.providers("community")
    return ProviderList(data=listing.data, metadata=listing.metadata)


@router.get("/server-providers", response_model=ProviderList, responses=_errors(500))
async def server_providers(services: ServicesDep) -> ProviderList:
    """The self-hosted relay provider registry."""
    listing = await services.relay.community.providers("relay")
    return ProviderList(data=listing.data, metadata=listing.metadata)


@router.get("/community/leaderboard", response_model=LeaderboardOut, responses=_errors(400))
async def leaderboard(
    services: ServicesDep,
    limit: Annotated[int | None, Query(gt=0, description="Return at most this many")] = None,
) -> LeaderboardOut:
    """Models by average community rating, best first."""
    board = await services.relay.community.leaderboard(limit)
    return LeaderboardOut(data=board.entries, updated=board.updated)


@router.post(
    "/community/feedback",
    status_code=201,
    response_model=FeedbackRecorded,
    responses=_errors(400, 413),
)
async def record_feedback(body: FeedbackIn, services: ServicesDep) -> FeedbackRecorded:
    """Rate a model from 1 to 5."""
    return FeedbackRecorded(
        id=await services.relay.community.record_feedback(body.model_id, body.rating)
    )


@router.post(
    "/community/contributions",
    status_code=202,
    response_model=ContributionQueued,
    responses=_errors(400, 413),
)
async def submit_contribution(body: ContributionIn, services: ServicesDep) -> ContributionQueued:
    """Queue an offer of compute for the maintainers to review."""
    submission_id = await services.relay.community.submit_contribution(
        **body.model_dump(exclude={"contact"}), contact=body.contact.model_dump()
    )
    return ContributionQueued(submission_id=submission_id)


@router.get(
    "/community/contributions/summary",
    response_model=ContributionSummaryOut,
    responses=_errors(401),
    dependencies=OPERATOR_SECURITY,
)
async def contribution_summary(request: Request, services: ServicesDep) -> ContributionSummaryOut:
    """Operator-only: a summary of queued contribution offers."""
    summary = await services.relay.community.contribution_summary(operator_token(request))
    return ContributionSummaryOut.model_validate(summary, from_attributes=True)


@router.get("/relay/server-nodes", response_model=ServerPool, responses=_errors())
async def server_nodes(services: ServicesDep) -> ServerPool:
    """Configured relay server-node URLs, primary first."""
    return await services.relay.community.server_pool()
