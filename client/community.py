"""CommunityService: provider directories, model feedback, contribution offers and
the relay's server pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import grpc

from tokenplace.client import convert
from tokenplace.client.metadata import operator_metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import ContributionSummary, Leaderboard, ProviderListing, ServerPool
from tokenplace.v1 import community_pb2, community_pb2_grpc

UINT32_MAX = 2**32 - 1
DIRECTORIES = {
    "community": community_pb2.PROVIDER_DIRECTORY_COMMUNITY,
    "relay": community_pb2.PROVIDER_DIRECTORY_RELAY,
}


class CommunityClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = community_pb2_grpc.CommunityServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def providers(self, directory: Literal["community", "relay"]) -> ProviderListing:
        request = community_pb2.ListProvidersRequest(directory=DIRECTORIES[directory])
        reply = await call(self._stub.ListProviders, request, timeout_seconds=self.timeout_seconds)
        return convert.provider_listing(reply)

    async def record_feedback(self, model_id: str, rating: int) -> str:
        request = community_pb2.RecordFeedbackRequest(model_id=model_id, rating=rating)
        reply = await call(self._stub.RecordFeedback, request, timeout_seconds=self.timeout_seconds)
        return reply.feedback_id

    async def leaderboard(self, limit: int | None = None) -> Leaderboard:
        # 0 means "no limit" on the wire; a limit beyond uint32 is no limit in practice.
        request = community_pb2.GetLeaderboardRequest(limit=min(limit or 0, UINT32_MAX))
        reply = await call(self._stub.GetLeaderboard, request, timeout_seconds=self.timeout_seconds)
        return convert.leaderboard(reply)

    async def submit_contribution(
        self,
        *,
        operator_name: str,
        region: str,
        availability: str,
        capabilities: Sequence[str],
        contact: Mapping[str, str | None],
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
        reply = await call(
            self._stub.SubmitContribution, request, timeout_seconds=self.timeout_seconds
        )
        return reply.submission_id

    async def contribution_summary(self, operator_token: str | None) -> ContributionSummary:
        """Operator-gated: the relay checks the token (absent: 401, or 503 if unset)."""
        reply = await call(
            self._stub.GetContributionSummary,
            community_pb2.GetContributionSummaryRequest(),
            timeout_seconds=self.timeout_seconds,
            metadata=operator_metadata(operator_token),
        )
        return convert.contribution_summary(reply)

    async def server_pool(self) -> ServerPool:
        request = community_pb2.GetServerPoolRequest()
        reply = await call(self._stub.GetServerPool, request, timeout_seconds=self.timeout_seconds)
        return convert.server_pool(reply)
