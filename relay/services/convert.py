"""The relay's domain types to and from tokenplace.v1 messages: the relay's one place
where protobuf meets domain code. Servicers convert here and call the domain."""

from __future__ import annotations

from typing import Any

from google.protobuf import field_mask_pb2, struct_pb2
from google.protobuf.message import Message

from tokenplace.common.timestamps import to_duration, to_timestamp
from tokenplace.e2ee import Envelope
from tokenplace.relay.accounts.keys import Account, ApiKey
from tokenplace.relay.community import Directory, LeaderboardEntry
from tokenplace.relay.dispatcher import JobOutcome, Sealed
from tokenplace.relay.errors import (
    BadEnvelope,
    InvalidArgument,
    JobCancelled,
    ModelNotFound,
    NodeBusy,
    NodeFailed,
    RelayError,
)
from tokenplace.relay.instances import Instance
from tokenplace.relay.inventory import ProcessingUnit, ProcessingUnitSpec, Software
from tokenplace.relay.monitoring.directory import ClusterStats, NodeStatus, RelayIdentity
from tokenplace.relay.monitoring.events import (
    Event,
    JobDispatched,
    JobFinished,
    JobOutcomeKind,
    NodeJoined,
    NodeLeft,
    NodeOffline,
    NodeOnline,
    Stamped,
)
from tokenplace.relay.registry import CancelOrder, DrainOrder, ModelCard, Outbound, SealedJob
from tokenplace.relay.sealed import RequestState, SealedEntry
from tokenplace.v1 import (
    account_pb2,
    common_pb2,
    community_pb2,
    instance_pb2,
    monitoring_pb2,
    node_pb2,
    sealed_pb2,
)

FAILURES: dict[int, type[RelayError]] = {
    node_pb2.FAILURE_REASON_BAD_ENVELOPE: BadEnvelope,
    node_pb2.FAILURE_REASON_UNKNOWN_MODEL: ModelNotFound,
    node_pb2.FAILURE_REASON_ENGINE_ERROR: NodeFailed,
    node_pb2.FAILURE_REASON_CANCELLED: JobCancelled,
    node_pb2.FAILURE_REASON_BUSY: NodeBusy,
}
SEALED_STATES = {
    RequestState.QUEUED: sealed_pb2.REQUEST_STATE_QUEUED,
    RequestState.RUNNING: sealed_pb2.REQUEST_STATE_RUNNING,
    RequestState.COMPLETED: sealed_pb2.REQUEST_STATE_COMPLETED,
    RequestState.CANCELLED: sealed_pb2.REQUEST_STATE_CANCELLED,
    RequestState.EXPIRED: sealed_pb2.REQUEST_STATE_EXPIRED,
    RequestState.LOST: sealed_pb2.REQUEST_STATE_LOST,
}
DIRECTORIES = {
    community_pb2.PROVIDER_DIRECTORY_COMMUNITY: Directory.COMMUNITY,
    community_pb2.PROVIDER_DIRECTORY_RELAY: Directory.RELAY,
}
JOB_OUTCOMES = {
    JobOutcomeKind.COMPLETED: monitoring_pb2.JOB_OUTCOME_KIND_COMPLETED,
    JobOutcomeKind.FAILED: monitoring_pb2.JOB_OUTCOME_KIND_FAILED,
    JobOutcomeKind.CANCELLED: monitoring_pb2.JOB_OUTCOME_KIND_CANCELLED,
    JobOutcomeKind.NODE_LOST: monitoring_pb2.JOB_OUTCOME_KIND_NODE_LOST,
    JobOutcomeKind.DEADLINE_EXCEEDED: monitoring_pb2.JOB_OUTCOME_KIND_DEADLINE_EXCEEDED,
}
INVENTORY_FIELDS = frozenset(common_pb2.NodeInventory.DESCRIPTOR.fields_by_name)

# Envelopes, models, inventory


def sealed_from_pb(envelope: common_pb2.Envelope) -> Sealed:
    return Sealed(
        client_public_key=envelope.client_public_key,
        request_id=envelope.request_id,
        ciphertext=envelope.ciphertext,
        cipherkey=envelope.cipherkey,
        iv=envelope.iv,
    )


def sealed_to_pb(sealed: Sealed) -> common_pb2.Envelope:
    return common_pb2.Envelope(
        client_public_key=sealed.client_public_key,
        request_id=sealed.request_id,
        ciphertext=sealed.ciphertext,
        cipherkey=sealed.cipherkey,
        iv=sealed.iv,
    )


def envelope_to_pb(envelope: Envelope) -> common_pb2.Envelope:
    """An envelope with no routing ids (e.g. a node credential sealed to the node)."""
    return common_pb2.Envelope(
        ciphertext=envelope.ciphertext, cipherkey=envelope.cipherkey, iv=envelope.iv
    )


def model_from_pb(card: common_pb2.ModelCard) -> ModelCard:
    return ModelCard(id=card.id, owned_by=card.owned_by, created=card.created)


def model_to_pb(model: ModelCard) -> common_pb2.ModelCard:
    return common_pb2.ModelCard(id=model.id, owned_by=model.owned_by, created=model.created)


def inventory_from_pb(inventory: common_pb2.NodeInventory) -> dict[str, Any]:
    return {field.name: value for field, value in inventory.ListFields()}


def inventory_to_pb(inventory: dict[str, Any]) -> common_pb2.NodeInventory:
    return common_pb2.NodeInventory(
        **{key: value for key, value in inventory.items() if key in INVENTORY_FIELDS}
    )


# The node stream


def job_to_pb(job: SealedJob) -> node_pb2.Job:
    envelope = common_pb2.Envelope(
        client_public_key=job.client_public_key,
        request_id=job.request_id,
        ciphertext=job.ciphertext,
        cipherkey=job.cipherkey,
        iv=job.iv,
    )
    return node_pb2.Job(
        job_id=job.job_id,
        model=job.model,
        envelope=envelope,
        deadline=to_timestamp(job.deadline_unix),
        report_start=job.report_start,
    )


def outbound_to_pb(message: Outbound) -> node_pb2.ConnectResponse:
    if isinstance(message, SealedJob):
        return node_pb2.ConnectResponse(job=job_to_pb(message))
    if isinstance(message, CancelOrder):
        return node_pb2.ConnectResponse(cancel_job=node_pb2.CancelJob(job_id=message.job_id))
    if isinstance(message, DrainOrder):
        return node_pb2.ConnectResponse(drain=node_pb2.Drain(grace_seconds=message.grace_seconds))
    raise TypeError(f"unknown outbound message {type(message).__name__}")


def result_from_pb(node_id: str, result: node_pb2.JobResult) -> JobOutcome | RelayError:
    if result.WhichOneof("outcome") == "response":
        return JobOutcome(
            node_id=node_id,
            response=sealed_from_pb(result.response),
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
        )
    failure = result.failure
    error_type = FAILURES.get(failure.reason, NodeFailed)
    return error_type(failure.message or "the compute node could not complete the job")


# Sealed requests


def sealed_entry_to_pb(entry: SealedEntry) -> sealed_pb2.RetrieveSealedResponse:
    reply = sealed_pb2.RetrieveSealedResponse(
        request_id=entry.request_id, state=SEALED_STATES[entry.state], reason=entry.reason
    )
    if entry.response is not None:
        reply.response.CopyFrom(sealed_to_pb(entry.response))
    return reply


# Accounts, instances and their inventory


def account_to_pb(account: Account) -> account_pb2.Account:
    return account_pb2.Account(
        id=account.id,
        name=account.name,
        balance_tokens=account.balance_tokens,
        created_at=to_timestamp(account.created_at),
    )


def api_key_to_pb(key: ApiKey) -> account_pb2.ApiKey:
    return account_pb2.ApiKey(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        created_at=to_timestamp(key.created_at),
        revoked_at=to_timestamp(key.revoked_at),
        last_used_at=to_timestamp(key.last_used_at),
    )


def instance_to_pb(instance: Instance) -> instance_pb2.Instance:
    return instance_pb2.Instance(
        id=instance.id,
        name=instance.name,
        endpoint=instance.endpoint,
        status=instance.status,
        created_at=to_timestamp(instance.created_at),
        updated_at=to_timestamp(instance.updated_at),
    )


def processing_unit_to_pb(unit: ProcessingUnit) -> instance_pb2.ProcessingUnit:
    return instance_pb2.ProcessingUnit(
        id=unit.id,
        kind=unit.kind,
        model=unit.model,
        count=unit.count,
        memory_bytes=unit.memory_bytes,
    )


def processing_unit_from_pb(unit: instance_pb2.ProcessingUnit) -> ProcessingUnitSpec:
    memory = unit.memory_bytes if unit.HasField("memory_bytes") else None
    return ProcessingUnitSpec(unit.kind, unit.model, unit.count or 1, memory)


def software_to_pb(software: Software) -> instance_pb2.Software:
    return instance_pb2.Software(id=software.id, name=software.name, version=software.version)


def masked_changes(
    message: Message, mask: field_mask_pb2.FieldMask, allowed: tuple[str, ...]
) -> dict[str, Any]:
    """{field: new value} for each path in the mask; an unset optional field means None."""
    changes: dict[str, Any] = {}
    for path in mask.paths:
        if path not in allowed:
            raise InvalidArgument(f"{path}: cannot be changed")
        field = message.DESCRIPTOR.fields_by_name[path]
        present = not field.has_presence or message.HasField(path)
        changes[path] = getattr(message, path) if present else None
    return changes


# Community


def struct_to_pb(row: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(row)
    return struct


def leaderboard_entry_to_pb(entry: LeaderboardEntry) -> community_pb2.LeaderboardEntry:
    return community_pb2.LeaderboardEntry(
        model_id=entry.model_id,
        average_rating=entry.average_rating,
        ratings_count=entry.ratings_count,
        last_feedback_at=to_timestamp(entry.last_feedback_at),
    )


# Monitoring


def node_to_pb(node: NodeStatus) -> monitoring_pb2.NodeStatus:
    return monitoring_pb2.NodeStatus(
        node_id=node.node_id,
        display_name=node.display_name,
        transport=node.transport,
        peer=node.peer,
        models=node.models,
        slots=node.slots,
        slots_in_use=node.slots_in_use,
        queued_jobs=node.queued_jobs,
        connected_at=to_timestamp(node.connected_at),
        last_seen=to_timestamp(node.last_seen),
        online=node.online,
        connected=node.connected,
        draining=node.draining,
        inventory=inventory_to_pb(node.inventory),
        jobs_completed=node.counters.jobs_completed,
        jobs_failed=node.counters.jobs_failed,
        tokens_generated=node.counters.tokens_generated,
    )


def relay_to_pb(relay: RelayIdentity, now: float) -> monitoring_pb2.RelayStatus:
    """This relay, answering now: seen now and online by definition."""
    return monitoring_pb2.RelayStatus(
        relay_id=relay.relay_id,
        address=relay.address,
        version=relay.version,
        started_at=to_timestamp(relay.started_at),
        last_seen=to_timestamp(now),
        online=True,
    )


def cluster_to_pb(
    cluster: ClusterStats, relays_online: int, relays_total: int, window_seconds: float
) -> monitoring_pb2.ClusterStats:
    counters = cluster.counters
    return monitoring_pb2.ClusterStats(
        workers_online=cluster.workers_online,
        workers_total=cluster.workers_total,
        federated_online=relays_online,
        federated_total=relays_total,
        slots_total=cluster.slots_total,
        slots_busy=cluster.slots_busy,
        queued_jobs=cluster.queued_jobs,
        models_served=cluster.models_served,
        jobs_dispatched=counters.jobs_dispatched,
        jobs_completed=counters.jobs_completed,
        jobs_failed=counters.jobs_failed,
        tokens_generated=counters.tokens_generated,
        online_window=to_duration(window_seconds),
    )


def event_to_pb(stamped: Stamped) -> monitoring_pb2.MonitoringEvent:
    message = monitoring_pb2.MonitoringEvent(time=to_timestamp(stamped.time))
    event: Event = stamped.event
    if isinstance(event, NodeJoined):
        message.node_joined.CopyFrom(
            monitoring_pb2.NodeJoined(
                node_id=event.node_id,
                display_name=event.display_name,
                models=event.models,
                slots=event.slots,
                transport=event.transport,
            )
        )
    elif isinstance(event, NodeLeft):
        message.node_left.CopyFrom(
            monitoring_pb2.NodeLeft(node_id=event.node_id, reason=event.reason)
        )
    elif isinstance(event, NodeOffline):
        silent_for = to_duration(event.silent_for_seconds)
        message.node_offline.CopyFrom(
            monitoring_pb2.NodeOffline(node_id=event.node_id, silent_for=silent_for)
        )
    elif isinstance(event, NodeOnline):
        message.node_online.CopyFrom(monitoring_pb2.NodeOnline(node_id=event.node_id))
    elif isinstance(event, JobDispatched):
        message.job_dispatched.CopyFrom(
            monitoring_pb2.JobDispatched(
                job_id=event.job_id,
                node_id=event.node_id,
                model=event.model,
                queued_for=to_duration(event.queued_for_seconds),
            )
        )
    elif isinstance(event, JobFinished):
        message.job_finished.CopyFrom(job_finished_to_pb(event))
    else:
        raise TypeError(f"unknown monitoring event {type(event).__name__}")
    return message


def job_finished_to_pb(event: JobFinished) -> monitoring_pb2.JobFinished:
    return monitoring_pb2.JobFinished(
        job_id=event.job_id,
        node_id=event.node_id,
        model=event.model,
        outcome=JOB_OUTCOMES[event.outcome],
        duration=to_duration(event.duration_seconds),
        prompt_tokens=event.prompt_tokens,
        completion_tokens=event.completion_tokens,
    )
