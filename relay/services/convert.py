"""Conversions between relay domain types and tokenplace.v1 messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from tokenplace.relay.dispatcher import JobOutcome, Sealed
from tokenplace.relay.errors import (
    BadEnvelope,
    JobCancelled,
    ModelNotFound,
    NodeBusy,
    NodeFailed,
    RelayError,
)
from tokenplace.relay.registry import CancelOrder, DrainOrder, ModelInfo, Outbound, SealedJob
from tokenplace.v1 import common_pb2, node_pb2

_FAILURES: dict[int, type[RelayError]] = {
    node_pb2.FAILURE_REASON_BAD_ENVELOPE: BadEnvelope,
    node_pb2.FAILURE_REASON_UNKNOWN_MODEL: ModelNotFound,
    node_pb2.FAILURE_REASON_ENGINE_ERROR: NodeFailed,
    node_pb2.FAILURE_REASON_CANCELLED: JobCancelled,
    node_pb2.FAILURE_REASON_BUSY: NodeBusy,
}


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


def model_from_pb(card: common_pb2.ModelCard) -> ModelInfo:
    return ModelInfo(id=card.id, owned_by=card.owned_by, created=card.created)


def model_to_pb(model: ModelInfo) -> common_pb2.ModelCard:
    return common_pb2.ModelCard(id=model.id, owned_by=model.owned_by, created=model.created)


def inventory_from_pb(inventory: common_pb2.NodeInventory) -> dict[str, Any]:
    return {field.name: value for field, value in inventory.ListFields()}


def outbound_to_pb(message: Outbound) -> node_pb2.ConnectResponse:
    if isinstance(message, SealedJob):
        deadline = timestamp_pb2.Timestamp()
        deadline.FromNanoseconds(int(message.deadline_unix * 1e9))
        envelope = common_pb2.Envelope(
            client_public_key=message.client_public_key,
            request_id=message.request_id,
            ciphertext=message.ciphertext,
            cipherkey=message.cipherkey,
            iv=message.iv,
        )
        job = node_pb2.Job(
            job_id=message.job_id,
            model=message.model,
            envelope=envelope,
            deadline=deadline,
            report_start=message.report_start,
        )
        return node_pb2.ConnectResponse(job=job)
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
    error_type = _FAILURES.get(failure.reason, NodeFailed)
    return error_type(failure.message or "the compute node could not complete the job")
