"""tokenplace.v1 messages to the client's types (and the few the client builds):
the one place where protobuf meets the gateway's and the CLI's code."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from tokenplace.client import types
from tokenplace.common.timestamps import to_datetime, to_optional_datetime, to_seconds, to_unix
from tokenplace.e2ee import Envelope
from tokenplace.v1 import (
    account_pb2,
    common_pb2,
    community_pb2,
    inference_pb2,
    instance_pb2,
    monitoring_pb2,
    node_pb2,
    polling_pb2,
    sealed_pb2,
)

SEALED_STATES = {
    sealed_pb2.REQUEST_STATE_QUEUED: "queued",
    sealed_pb2.REQUEST_STATE_RUNNING: "running",
    sealed_pb2.REQUEST_STATE_COMPLETED: "completed",
    sealed_pb2.REQUEST_STATE_CANCELLED: "cancelled",
    sealed_pb2.REQUEST_STATE_EXPIRED: "expired",
    sealed_pb2.REQUEST_STATE_LOST: "lost",
}
JOB_OUTCOMES = {
    monitoring_pb2.JOB_OUTCOME_KIND_COMPLETED: "completed",
    monitoring_pb2.JOB_OUTCOME_KIND_FAILED: "failed",
    monitoring_pb2.JOB_OUTCOME_KIND_CANCELLED: "cancelled",
    monitoring_pb2.JOB_OUTCOME_KIND_NODE_LOST: "node_lost",
    monitoring_pb2.JOB_OUTCOME_KIND_DEADLINE_EXCEEDED: "deadline_exceeded",
}
FAILURE_PREFIX = "FAILURE_REASON_"

# Envelopes and models


def envelope_pb(client_public_key: str, request_id: str, env: Envelope) -> common_pb2.Envelope:
    return common_pb2.Envelope(
        client_public_key=client_public_key,
        request_id=request_id,
        ciphertext=env.ciphertext,
        cipherkey=env.cipherkey,
        iv=env.iv,
    )


def envelope(sealed: common_pb2.Envelope) -> Envelope:
    return Envelope(sealed.ciphertext, sealed.cipherkey, sealed.iv)


def model_card(card: common_pb2.ModelCard) -> types.ModelCard:
    return types.ModelCard(card.id, card.owned_by, card.created)


def model_card_pb(card: types.ModelCard) -> common_pb2.ModelCard:
    return common_pb2.ModelCard(id=card.id, owned_by=card.owned_by, created=card.created)


def served_model(served: inference_pb2.ServedModel) -> types.ServedModel:
    return types.ServedModel(model_card(served.card), served.node_count, served.free_slots)


def dispatched(reply: inference_pb2.DispatchResponse) -> types.Dispatched:
    hint = reply.next_node
    return types.Dispatched(
        node_id=reply.node_id,
        response=envelope(reply.response),
        prompt_tokens=reply.usage.prompt_tokens,
        completion_tokens=reply.usage.completion_tokens,
        next_node=(
            types.NodeAddress(hint.node_id, hint.public_key)
            if reply.HasField("next_node")
            else None
        ),
    )


# Sealed requests and polling nodes


def submitted(reply: sealed_pb2.SubmitSealedResponse) -> types.SealedState:
    state = SEALED_STATES[reply.state]
    return types.SealedState(reply.request_id, state, duplicate=reply.duplicate)


def retrieved(reply: sealed_pb2.RetrieveSealedResponse) -> types.SealedState:
    response = envelope(reply.response) if reply.HasField("response") else None
    return types.SealedState(reply.request_id, SEALED_STATES[reply.state], reply.reason, response)


def cancelled(reply: sealed_pb2.CancelSealedResponse) -> types.SealedState:
    return types.SealedState(reply.request_id, SEALED_STATES[reply.state])


def polling_registration(
    reply: polling_pb2.RegisterPollingNodeResponse,
) -> types.PollingRegistration:
    sealed = envelope(reply.sealed_credential) if reply.HasField("sealed_credential") else None
    return types.PollingRegistration(
        reply.node_id, sealed, reply.lease_seconds, reply.poll_wait_seconds
    )


def polled_job(job: node_pb2.Job) -> types.PolledJob:
    return types.PolledJob(
        job_id=job.job_id,
        model=job.model,
        client_public_key=job.envelope.client_public_key,
        request_id=job.envelope.request_id,
        envelope=envelope(job.envelope),
        deadline_unix=to_unix(job.deadline),
    )


def failure_reason(name: str) -> node_pb2.FailureReason.ValueType:
    """ "engine_error" -> FAILURE_REASON_ENGINE_ERROR (the node's failure names)."""
    return node_pb2.FailureReason.Value(FAILURE_PREFIX + name.upper())


def job_result_pb(
    job_id: str,
    prompt_tokens: int,
    completion_tokens: int,
    response: Envelope | None,
    failure: str | None,
) -> node_pb2.JobResult:
    result = node_pb2.JobResult(
        job_id=job_id,
        usage=common_pb2.Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
    )
    if failure is not None:
        result.failure.reason = failure_reason(failure)
    elif response is not None:
        result.response.CopyFrom(envelope_pb("", "", response))  # the relay routes by job_id
    return result


# Accounts and instances


def account(message: account_pb2.Account) -> types.Account:
    return types.Account(
        message.id, message.name, message.balance_tokens, to_optional_datetime(message.created_at)
    )


def api_key(key: account_pb2.ApiKey) -> types.ApiKey:
    return types.ApiKey(
        key.id,
        key.prefix,
        key.name,
        to_optional_datetime(key.created_at),
        to_optional_datetime(key.revoked_at),
        to_optional_datetime(key.last_used_at),
    )


def instance(message: instance_pb2.Instance) -> types.Instance:
    return types.Instance(
        id=message.id,
        name=message.name,
        endpoint=message.endpoint if message.HasField("endpoint") else None,
        status=message.status,
        created_at=to_datetime(message.created_at),
        updated_at=to_datetime(message.updated_at),
    )


def processing_unit(unit: instance_pb2.ProcessingUnit) -> types.ProcessingUnit:
    memory = unit.memory_bytes if unit.HasField("memory_bytes") else None
    return types.ProcessingUnit(unit.id, unit.kind, unit.model, unit.count, memory)


def software(message: instance_pb2.Software) -> types.Software:
    return types.Software(message.id, message.name, message.version)


# Community


def provider_listing(reply: community_pb2.ListProvidersResponse) -> types.ProviderListing:
    metadata = plain_struct(reply.metadata) if reply.HasField("metadata") else None
    return types.ProviderListing([plain_struct(row) for row in reply.data], metadata)


def leaderboard(reply: community_pb2.GetLeaderboardResponse) -> types.Leaderboard:
    entries = [
        types.LeaderboardEntry(
            model_id=entry.model_id,
            average_rating=entry.average_rating,
            ratings_count=entry.ratings_count,
            last_feedback_at=to_datetime(entry.last_feedback_at),
        )
        for entry in reply.entries
    ]
    return types.Leaderboard(entries, to_datetime(reply.updated))


def contribution_summary(
    reply: community_pb2.GetContributionSummaryResponse,
) -> types.ContributionSummary:
    return types.ContributionSummary(
        total_submissions=reply.total_submissions,
        regions=list(reply.regions),
        capability_counts=dict(sorted(reply.capability_counts.items())),
        last_submission_at=to_optional_datetime(reply.last_submission_at),
    )


def server_pool(reply: community_pb2.GetServerPoolResponse) -> types.ServerPool:
    return types.ServerPool(
        configured_servers=list(reply.configured_servers),
        primary=reply.primary or None,
        secondary=list(reply.secondary),
        total=reply.total,
    )


def plain_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    plain = _plain(json_format.MessageToDict(struct))
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any) -> Any:
    """Struct numbers are doubles; give whole numbers back as ints, as the file had them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# Monitoring


def node_status(node: monitoring_pb2.NodeStatus) -> types.NodeStatus:
    return types.NodeStatus(
        node_id=node.node_id,
        display_name=node.display_name,
        transport=node.transport,
        peer=node.peer,
        models=list(node.models),
        slots=node.slots,
        slots_in_use=node.slots_in_use,
        queued_jobs=node.queued_jobs,
        connected_at=to_optional_datetime(node.connected_at),
        last_seen=to_optional_datetime(node.last_seen),
        online=node.online,
        connected=node.connected,
        draining=node.draining,
        jobs_completed=node.jobs_completed,
        jobs_failed=node.jobs_failed,
        tokens_generated=node.tokens_generated,
        inventory=json_format.MessageToDict(
            node.inventory,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        ),
    )


def relay_status(relay: monitoring_pb2.RelayStatus) -> types.RelayStatus:
    return types.RelayStatus(
        relay_id=relay.relay_id,
        address=relay.address,
        version=relay.version,
        started_at=to_optional_datetime(relay.started_at),
        last_seen=to_optional_datetime(relay.last_seen),
        online=relay.online,
    )


def cluster_stats(stats: monitoring_pb2.ClusterStats) -> types.ClusterStats:
    return types.ClusterStats(
        workers_online=stats.workers_online,
        workers_total=stats.workers_total,
        federated_online=stats.federated_online,
        federated_total=stats.federated_total,
        slots_total=stats.slots_total,
        slots_busy=stats.slots_busy,
        queued_jobs=stats.queued_jobs,
        models_served=stats.models_served,
        jobs_dispatched=stats.jobs_dispatched,
        jobs_completed=stats.jobs_completed,
        jobs_failed=stats.jobs_failed,
        tokens_generated=stats.tokens_generated,
        online_window_seconds=to_seconds(stats.online_window),
    )


def monitoring_event(event: monitoring_pb2.MonitoringEvent) -> types.MonitoringEvent:
    kind = event.WhichOneof("kind") or ""
    when = to_optional_datetime(event.time)
    if not kind:
        return types.MonitoringEvent(kind="", time=when)
    body = getattr(event, kind)
    fields: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("node_id", "job_id", "model", "reason", "prompt_tokens", "completion_tokens")
        if name in body.DESCRIPTOR.fields_by_name
    }
    if kind == "job_finished":
        fields["outcome"] = JOB_OUTCOMES.get(body.outcome, "unknown")
        fields["duration_seconds"] = to_seconds(body.duration)
    return types.MonitoringEvent(kind=kind, time=when, **fields)
