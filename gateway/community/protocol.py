"""Requests and responses of the community routes: provider directories, model
feedback and the leaderboard, contribution offers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_serializer,
    model_validator,
)

from tokenplace.client.types import LeaderboardEntry

# Required text: not blank, and short enough for a directory listing.
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, StringConstraints(max_length=2000)]


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


class LeaderboardOut(BaseModel):
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


class ContributionSummaryOut(BaseModel):
    object: Literal["community.contribution_summary"] = "community.contribution_summary"
    total_submissions: int
    regions: list[str]
    capability_counts: dict[str, int]
    last_submission_at: datetime | None
