"""The gateway's gRPC client for the relay's CommunityService.

Converts protobuf at this edge: callers see plain dicts, dataclasses and APIError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import grpc
from google.protobuf import json_format, timestamp_pb2

from tokenplace.gateway.errors import from_rpc_error
from tokenplace.v1 import community_pb2, community_pb2_grpc

# Must match relay/operator_auth.py's OPERATOR_METADATA_KEY (the gateway does not import relay).
OPERATOR_METADATA_KEY = "x-tokenplace-operator"
UINT32_MAX = 2**32 - 1
_DIRECTORIES = {
    "community": community_pb2.PROVIDER_DIRECTORY_COMMUNITY,
    "relay": community_pb2.PROVIDER_DIRECTORY_RELAY,
}


@dataclass(frozen=True, slots=True)
class ProviderListing:
    data: list[dict[str, Any]]
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    model_id: str
    average_rating: float
    ratings_count: int
    last_feedback_at: datetime


@dataclass(frozen=True, slots=True)
class Leaderboard:
    entries: list[LeaderboardEntry]
    updated: datetime


@dataclass(frozen=True, slots=True)
class ContributionSummary:
    total_submissions: int
    regions: list[str]
    capability_counts: dict[str, int]
    last_submission_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerPool:
    configured_servers: list[str]
    primary: str | None
    secondary: list[str]
    total: int


class CommunityClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float = 5.0) -> None:
        self._stub = community_pb2_grpc.CommunityServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def providers(self, directory: Literal["community", "relay"]) -> ProviderListing:
        request = community_pb2.ListProvidersRequest(directory=_DIRECTORIES[directory])
        reply = await self._call(self._stub.ListProviders, request)
        metadata = _plain_struct(reply.metadata) if reply.HasField("metadata") else None
        return ProviderListing([_plain_struct(row) for row in reply.data], metadata)

    async def record_feedback(self, model_id: str, rating: int) -> str:
        request = community_pb2.RecordFeedbackRequest(model_id=model_id, rating=rating)
        reply = await self._call(self._stub.RecordFeedback, request)
        return reply.feedback_id

    async def leaderboard(self, limit: int | None = None) -> Leaderboard:
        # 0 means "no limit" on the wire; a limit beyond uint32 is no limit in practice.
        request = community_pb2.GetLeaderboardRequest(limit=min(limit or 0, UINT32_MAX))
        reply = await self._call(self._stub.GetLeaderboard, request)
        entries = [
            LeaderboardEntry(
                model_id=entry.model_id,
                average_rating=entry.average_rating,
                ratings_count=entry.ratings_count,
                last_feedback_at=_datetime(entry.last_feedback_at),
            )
            for entry in reply.entries
        ]
        return Leaderboard(entries, _datetime(reply.updated))

    async def submit_contribution(
        self,
        *,
        operator_name: str,
        region: str,
        availability: str,
        capabilities: Sequence[str],
        contact: dict[str, str | None],
        hardware: str | None = None,
        notes: str | None = None,
    ) -> str:
        request = community_pb2.SubmitContributionRequest(
            operator_name=operator_name,
            region=region,
            availability=availability,
            capabilities=list(capabilities),
            contact=community_pb2.ContributionContact(
                **{key: value for key, value in contact.items() if value}
            ),
            hardware=hardware or "",
            notes=notes or "",
        )
        reply = await self._call(self._stub.SubmitContribution, request)
        return reply.submission_id

    async def contribution_summary(self, operator_token: str | None) -> ContributionSummary:
        """Operator-gated: the relay checks `operator_token` (absent ⇒ 401, or 503 if unset)."""
        metadata = ()
        if operator_token and operator_token.isascii() and operator_token.isprintable():
            metadata = ((OPERATOR_METADATA_KEY, operator_token),)
        request = community_pb2.GetContributionSummaryRequest()
        reply = await self._call(self._stub.GetContributionSummary, request, metadata)
        return ContributionSummary(
            total_submissions=reply.total_submissions,
            regions=list(reply.regions),
            capability_counts=dict(sorted(reply.capability_counts.items())),
            last_submission_at=(
                _datetime(reply.last_submission_at)
                if reply.HasField("last_submission_at")
                else None
            ),
        )

    async def server_pool(self) -> ServerPool:
        reply = await self._call(self._stub.GetServerPool, community_pb2.GetServerPoolRequest())
        return ServerPool(
            configured_servers=list(reply.configured_servers),
            primary=reply.primary or None,
            secondary=list(reply.secondary),
            total=reply.total,
        )

    async def _call(self, method: Any, request: Any, metadata: Any = ()) -> Any:
        try:
            return await method(request, timeout=self.timeout_seconds, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None


def _datetime(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _plain_struct(struct: Any) -> dict[str, Any]:
    return _plain(json_format.MessageToDict(struct))


def _plain(value: Any) -> Any:
    """Struct numbers are doubles; give whole numbers back as ints, as the file had them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
