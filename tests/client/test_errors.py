"""The error contract, written once: every relay reason reaches HTTP through one table,
and a reason with its retry delay survives the trip through a google.rpc.Status."""

from __future__ import annotations

import grpc
import pytest

from tokenplace.client.errors import (
    RelayCallError,
    RelayUnreachable,
    from_status,
    reason_from_name,
    reason_name,
    rich_status,
)
from tokenplace.gateway.errors import REASONS, from_relay
from tokenplace.v1 import errors_pb2

ALL_REASONS = [
    value
    for value in errors_pb2.ErrorReason.values()
    if value != errors_pb2.ERROR_REASON_UNSPECIFIED
]


@pytest.mark.parametrize("reason", ALL_REASONS, ids=reason_name)
def test_every_reason_has_an_http_mapping(reason: int) -> None:
    mapping = REASONS.get(reason)
    assert mapping is not None, (
        f"ErrorReason {reason_name(reason)} has no HTTP mapping: add it to "
        "tokenplace.gateway.errors.REASONS"
    )
    assert 400 <= mapping.status < 600
    assert mapping.code and mapping.type


def test_the_table_maps_nothing_but_reasons() -> None:
    assert set(REASONS) == set(ALL_REASONS)


@pytest.mark.parametrize("reason", ALL_REASONS, ids=reason_name)
def test_reason_names_round_trip(reason: int) -> None:
    name = reason_name(reason)
    assert name.isupper() and not name.startswith("ERROR_REASON_")
    assert reason_from_name(name) == reason


def test_an_unknown_reason_name_reads_as_unspecified() -> None:
    assert reason_from_name("FROM_A_NEWER_RELAY") == errors_pb2.ERROR_REASON_UNSPECIFIED


def test_reason_and_retry_delay_survive_the_status() -> None:
    status = rich_status(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "60 requests a minute",
        errors_pb2.ERROR_REASON_RATE_LIMITED,
        retry_after=2.5,
    )
    error = from_status(status)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (error.reason_name, error.message, error.retry_after) == (
        "RATE_LIMITED",
        "60 requests a minute",
        2.5,
    )
    http = from_relay(error)
    assert (http.status, http.code, http.type) == (429, "rate_limit_error", "rate_limit_error")
    assert http.retry_after == 3  # whole seconds, rounded up, for the Retry-After header


def test_an_existing_account_is_a_conflict() -> None:
    error = RelayCallError(
        grpc.StatusCode.ALREADY_EXISTS,
        "an account named 'alice' exists already",
        errors_pb2.ERROR_REASON_ACCOUNT_EXISTS,
    )
    http = from_relay(error)
    assert (http.status, http.code) == (409, "account_exists")
    assert http.message == "an account named 'alice' exists already"


def test_a_call_without_a_reason_maps_by_its_grpc_code() -> None:
    unreachable = from_relay(RelayCallError(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    assert (unreachable.status, unreachable.code) == (503, "rate_limit_unavailable")
    assert unreachable.retry_after == 2
    unknown = from_relay(RelayCallError(grpc.StatusCode.DATA_LOSS, "?"))
    assert (unknown.status, unknown.code) == (502, "upstream_error")


def test_an_unreachable_monitoring_relay_is_the_p2p_apis_500() -> None:
    error = RelayUnreachable("10.0.0.1:50051", grpc.StatusCode.UNAVAILABLE, "connection refused")
    http = from_relay(error)
    assert http.status == 500
    assert http.message == (
        "P2P subsystem not available: cannot reach the relay at 10.0.0.1:50051 (connection refused)"
    )
