"""Community routes: provider directories, model feedback, contribution offers, server nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_serializer,
    model_validator,
)

from tokenplace.gateway.community_client import CommunityClient
from tokenplace.gateway.openapi import OPERATOR_SECURITY
from tokenplace.gateway.operator import operator_token
from tokenplace.gateway.schemas import ErrorResponse

router = APIRouter(tags=["community"])


async def community_client(request: Request) -> CommunityClient:
    return request.app.state.community


Community = Annotated[CommunityClient, Depends(community_client)]


# Required text: not blank, and short enough for a directory listing.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, StringConstraints(max_length=2000)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer (503: relay down)."""
    return {status: {"model": ErrorResponse} for status in (*statuses, 503)}


class ProviderList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    metadata: dict[str, Any] | None = Field(
        default=None, description="Present only when the directory file has metadata."
    )

    @model_serializer(mode="wrap")
    def _omit_absent_metadata(self, handler: Any) -> Any:
        body = handler(self)
        if body.get("metadata") is None:
            body.pop("metadata", None)
        return body


class LeaderboardEntry(BaseModel):
    model_id: str
    average_rating: float
    ratings_count: int
    last_feedback_at: datetime


class Leaderboard(BaseModel):
    object: Literal["list"] = "list"
    data: list[LeaderboardEntry]
    updated: datetime


def _whole_float_to_int(value: Any) -> Any:
    """JSON Schema counts 4.0 as an integer; strict mode alone would reject it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict: "5" and true are not ratings.
Rating = Annotated[int, Field(ge=1, le=5, strict=True), BeforeValidator(_whole_float_to_int)]


class FeedbackIn(BaseModel):
    model_id: Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"\S")]
    rating: Rating


class FeedbackRecorded(BaseModel):
    id: str
    status: Literal["recorded"] = "recorded"


CONTACT_FIELDS = ("email", "matrix", "discord", "website")


class Contact(BaseModel):
    # The schema says what the validator checks: at least one field holds a string.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": [field], "properties": {field: {"type": "string"}}}
                for field in CONTACT_FIELDS
            ]
        },
    )

    email: ShortText | None = None
    matrix: ShortText | None = None
    discord: ShortText | None = None
    website: ShortText | None = None

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> Contact:
        if not any(getattr(self, field) for field in CONTACT_FIELDS):
            raise ValueError("give at least one of email, matrix, discord or website")
        return self


class ContributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator_name: ShortText
    region: ShortText
    availability: ShortText
    capabilities: list[ShortText] = Field(min_length=1, max_length=32)
    contact: Contact
    hardware: LongText | None = None
    notes: LongText | None = None


class ContributionQueued(BaseModel):
    status: Literal["queued"] = "queued"
    submission_id: str


class ContributionSummary(BaseModel):
    object: Literal["community.contribution_summary"] = "community.contribution_summary"
    total_submissions: int
    regions: list[str]
    capability_counts: dict[str, int]
    last_submission_at: datetime | None


class ServerNodes(BaseModel):
    configured_servers: list[str]
    primary: str | None
    secondary: list[str]
    total: int


@router.get("/community/providers", response_model=ProviderList, responses=errors(500))
async def community_providers(community: Community) -> ProviderList:
    """Community-operated relay and server providers."""
    listing = await community.providers("community")
    return ProviderList(data=listing.data, metadata=listing.metadata)


@router.get("/server-providers", response_model=ProviderList, responses=errors(500))
async def server_providers(community: Community) -> ProviderList:
    """The self-hosted relay provider registry."""
    listing = await community.providers("relay")
    return ProviderList(data=listing.data, metadata=listing.metadata)


@router.get("/community/leaderboard", response_model=Leaderboard, responses=errors(400))
async def leaderboard(
    community: Community,
    limit: Annotated[int | None, Query(gt=0, description="Return at most this many")] = None,
) -> Leaderboard:
    """Models by average community rating, best first."""
    board = await community.leaderboard(limit)
    entries = [
        LeaderboardEntry.model_validate(entry, from_attributes=True) for entry in board.entries
    ]
    return Leaderboard(data=entries, updated=board.updated)


@router.post(
    "/community/feedback",
    status_code=201,
    response_model=FeedbackRecorded,
    responses=errors(400, 413),
)
async def record_feedback(body: FeedbackIn, community: Community) -> FeedbackRecorded:
    """Rate a model from 1 to 5."""
    return FeedbackRecorded(id=await community.record_feedback(body.model_id, body.rating))


@router.post(
    "/community/contributions",
    status_code=202,
    response_model=ContributionQueued,
    responses=errors(400, 413),
)
async def submit_contribution(body: ContributionIn, community: Community) -> ContributionQueued:
    """Queue an offer of compute for the maintainers to review."""
    submission_id = await community.submit_contribution(
        **body.model_dump(exclude={"contact"}), contact=body.contact.model_dump()
    )
    return ContributionQueued(submission_id=submission_id)


@router.get(
    "/community/contributions/summary",
    response_model=ContributionSummary,
    responses=errors(401),
    dependencies=OPERATOR_SECURITY,
)
async def contribution_summary(request: Request, community: Community) -> ContributionSummary:
    """Operator-only: a summary of queued contribution offers."""
    summary = await community.contribution_summary(operator_token(request))
    return ContributionSummary.model_validate(summary, from_attributes=True)


@router.get("/relay/server-nodes", response_model=ServerNodes, responses=errors())
async def server_nodes(community: Community) -> ServerNodes:
    """Configured relay server-node URLs, primary first."""
    return ServerNodes.model_validate(await community.server_pool(), from_attributes=True)
