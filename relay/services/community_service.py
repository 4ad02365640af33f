"""CommunityService: provider directories, feedback, contributions and the server pool."""

from __future__ import annotations

import time

import grpc

from tokenplace.common.timestamps import to_timestamp
from tokenplace.relay.community import Community
from tokenplace.relay.errors import InvalidArgument
from tokenplace.relay.operator_auth import OperatorAuth
from tokenplace.relay.services import convert
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import community_pb2, community_pb2_grpc

_CONTACT_FIELDS = ("email", "matrix", "discord", "website")


class CommunityServicer(community_pb2_grpc.CommunityServiceServicer):
    def __init__(self, community: Community, operator: OperatorAuth) -> None:
        self.community = community
        self.operator = operator

    @translate_errors
    async def ListProviders(
        self, request: community_pb2.ListProvidersRequest, context: grpc.aio.ServicerContext
    ) -> community_pb2.ListProvidersResponse:
        directory = convert.DIRECTORIES.get(request.directory)
        if directory is None:
            raise InvalidArgument("directory: must be PROVIDER_DIRECTORY_COMMUNITY or _RELAY")
        listing = await self.community.providers(directory)
        reply = community_pb2.ListProvidersResponse(
            data=[convert.struct_to_pb(row) for row in listing.data]
        )
        if listing.metadata is not None:
            reply.metadata.CopyFrom(convert.struct_to_pb(listing.metadata))
        return reply

    @translate_errors
    async def RecordFeedback(
        self, request: community_pb2.RecordFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> community_pb2.RecordFeedbackResponse:
        feedback_id = await self.community.record_feedback(request.model_id, request.rating)
        return community_pb2.RecordFeedbackResponse(feedback_id=feedback_id)

    @translate_errors
    async def GetLeaderboard(
        self, request: community_pb2.GetLeaderboardRequest, context: grpc.aio.ServicerContext
    ) -> community_pb2.GetLeaderboardResponse:
        entries = await self.community.leaderboard(request.limit or None)
        return community_pb2.GetLeaderboardResponse(
            entries=[convert.leaderboard_entry_to_pb(entry) for entry in entries],
            updated=to_timestamp(time.time()),
        )

    @translate_errors
    async def SubmitContribution(
        self, request: community_pb2.SubmitContributionRequest, context: grpc.aio.ServicerContext
    ) -> community_pb2.SubmitContributionResponse:
        submission_id = await self.community.submit_contribution(
            operator_name=request.operator_name,
            region=request.region,
            availability=request.availability,
            capabilities=list(request.capabilities),
            contact={key: getattr(request.contact, key) or None for key in _CONTACT_FIELDS},
            hardware=request.hardware or None,
            notes=request.notes or None,
        )
        return community_pb2.SubmitContributionResponse(submission_id=submission_id)

    @translate_errors
    async def GetContributionSummary(
        self,
        request: community_pb2.GetContributionSummaryRequest,
        context: grpc.aio.ServicerContext,
    ) -> community_pb2.GetContributionSummaryResponse:
        self.operator.require(context)
        summary = await self.community.contribution_summary()
        return community_pb2.GetContributionSummaryResponse(
            total_submissions=summary.total_submissions,
            regions=summary.regions,
            capability_counts=summary.capability_counts,
            last_submission_at=to_timestamp(summary.last_submission_at),
        )

    @translate_errors
    async def GetServerPool(
        self, request: community_pb2.GetServerPoolRequest, context: grpc.aio.ServicerContext
    ) -> community_pb2.GetServerPoolResponse:
        pool = self.community.server_pool()
        return community_pb2.GetServerPoolResponse(
            configured_servers=pool.configured_servers,
            primary=pool.primary,
            secondary=pool.secondary,
            total=pool.total,
        )
