"""Community domain (SQLite and PostgreSQL) and the CommunityService RPCs."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from tests.support.network import LocalNetwork
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tokenplace.relay.community import (
    Community,
    ContributionSummary,
    Directory,
    ProviderDirectoryUnavailable,
)
from tokenplace.relay.config import RelaySettings
from tokenplace.relay.errors import InvalidArgument
from tokenplace.relay.store import ModelFeedback
from tokenplace.v1 import community_pb2, community_pb2_grpc, errors_pb2

GOOD_OFFER: dict[str, Any] = {
    "operator_name": "Ada's rack",
    "region": "eu-west",
    "availability": "nights and weekends",
    "capabilities": ["llama-3.1-8b-instruct", "gpu"],
    "contact": {"email": "ada@example.org"},
    "hardware": "RTX 4090",
    "notes": None,
}
PROVIDERS = {
    "data": [{"name": "Relay One", "url": "https://relay.one", "port": 443, "load": 0.5}],
    "metadata": {"updated_at": "2025-01-01", "maintainers": ["ops"]},
}


def relay_settings(tmp_path: Path, **overrides: Any) -> RelaySettings:
    """Loopback relay settings with a SQLite file in `tmp_path`, then `overrides`."""
    defaults = {
        "host": "127.0.0.1",
        "port": 0,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}",
    }
    return RelaySettings(**{**defaults, **overrides})


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'relay.sqlite3'}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = await cluster.create_database()
    try:
        yield url
    finally:
        await cluster.drop_database(url)


@pytest.fixture
async def community(database_url: str, tmp_path: Path) -> AsyncIterator[Community]:
    service = Community(relay_settings(tmp_path, database_url=database_url))
    await service.start()
    try:
        yield service
    finally:
        await service.close()


async def rate(community: Community, ratings: dict[str, list[int]]) -> None:
    for model_id, values in ratings.items():
        for value in values:
            await community.record_feedback(model_id, value)


# Feedback and leaderboard


async def test_leaderboard_orders_by_average_then_count_then_model_id(
    community: Community,
) -> None:
    before = datetime.now(UTC)
    await rate(
        community,
        {
            "beta": [5, 4],
            "delta": [1, 2, 2],
            "alpha": [4, 5],
            "gamma": [5, 5, 4, 4],
            "zeta": [5],
        },
    )
    after = datetime.now(UTC)

    board = await community.leaderboard()

    assert [(e.model_id, e.average_rating, e.ratings_count) for e in board] == [
        ("zeta", 5.0, 1),
        ("gamma", 4.5, 4),
        ("alpha", 4.5, 2),
        ("beta", 4.5, 2),
        ("delta", 1.67, 3),
    ]
    for entry in board:
        assert entry.last_feedback_at.tzinfo is not None
        assert before <= entry.last_feedback_at <= after


async def test_leaderboard_last_feedback_is_the_latest_rating(community: Community) -> None:
    await community.record_feedback("m", 3)
    middle = datetime.now(UTC)
    await community.record_feedback("m", 5)

    [entry] = await community.leaderboard()

    assert entry.last_feedback_at >= middle


async def test_leaderboard_limit_and_empty(community: Community) -> None:
    assert await community.leaderboard() == []
    await rate(community, {"a": [5], "b": [4], "c": [3]})

    assert [e.model_id for e in await community.leaderboard(limit=2)] == ["a", "b"]
    with pytest.raises(InvalidArgument, match=r"^limit"):
        await community.leaderboard(limit=0)


async def test_record_feedback_returns_distinct_uuids(community: Community) -> None:
    first = await community.record_feedback("m", 4)
    second = await community.record_feedback("m", 4)

    assert first != second
    assert uuid.UUID(first).version == 4


@pytest.mark.parametrize(
    ("model_id", "rating", "field"),
    [
        ("m", 0, "rating"),
        ("m", 6, "rating"),
        ("m", True, "rating"),
        ("m", "5", "rating"),
        ("", 3, "model_id"),
        ("   ", 3, "model_id"),
        ("x" * 257, 3, "model_id"),
    ],
)
async def test_bad_feedback_is_rejected_naming_the_field(
    community: Community, model_id: str, rating: Any, field: str
) -> None:
    with pytest.raises(InvalidArgument, match=f"^{field}:"):
        await community.record_feedback(model_id, rating)
    assert await community.leaderboard() == []


async def test_database_enforces_the_rating_range(community: Community) -> None:
    with pytest.raises(IntegrityError):
        async with community.store.sessions.begin() as session:
            session.add(
                ModelFeedback(
                    id=str(uuid.uuid4()), model_id="m", rating=9, created_at=datetime.now(UTC)
                )
            )


async def test_data_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    settings = relay_settings(tmp_path, database_url=database_url)
    first = Community(settings)
    await first.start()
    await first.record_feedback("m", 4)
    await first.submit_contribution(**GOOD_OFFER)
    await first.close()

    second = Community(settings)
    await second.start()  # migrations again: must keep what is there
    try:
        assert [e.ratings_count for e in await second.leaderboard()] == [1]
        assert (await second.contribution_summary()).total_submissions == 1
        tables = await _table_names(second)
        assert {"contributions", "model_feedback"} <= tables
    finally:
        await second.close()


async def _table_names(community: Community) -> set[str]:
    async with community.store.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


# Contributions


async def test_contribution_summary_counts_offers(community: Community) -> None:
    assert await community.contribution_summary() == ContributionSummary(0, [], {}, None)
    before = datetime.now(UTC)
    first = await community.submit_contribution(**GOOD_OFFER)
    second = await community.submit_contribution(
        **{**GOOD_OFFER, "region": " ap-south ", "capabilities": ["gpu", "cpu", "gpu"]}
    )
    await community.submit_contribution(**{**GOOD_OFFER, "capabilities": ["cpu"]})

    summary = await community.contribution_summary()

    assert first != second and uuid.UUID(first).version == 4
    assert summary.total_submissions == 3
    assert summary.regions == ["ap-south", "eu-west"]
    assert summary.capability_counts == {"cpu": 2, "gpu": 2, "llama-3.1-8b-instruct": 1}
    assert summary.last_submission_at is not None
    assert before <= summary.last_submission_at <= datetime.now(UTC)


BAD_OFFERS: list[tuple[str, dict[str, Any], str]] = [
    ("blank operator", {"operator_name": "  "}, "operator_name"),
    ("long operator", {"operator_name": "x" * 201}, "operator_name"),
    ("empty region", {"region": ""}, "region"),
    ("empty availability", {"availability": ""}, "availability"),
    ("no capabilities", {"capabilities": []}, "capabilities"),
    ("capabilities a string", {"capabilities": "gpu"}, "capabilities"),
    ("33 capabilities", {"capabilities": [f"c{i}" for i in range(33)]}, "capabilities"),
    ("blank capability", {"capabilities": ["gpu", " "]}, r"capabilities\[1\]"),
    ("no contact", {"contact": {}}, "contact"),
    ("only blank contact", {"contact": {"email": " ", "matrix": None}}, "contact"),
    ("unknown contact", {"contact": {"email": "a@b.c", "fax": "1"}}, "contact"),
    ("long hardware", {"hardware": "x" * 2001}, "hardware"),
    ("long notes", {"notes": "x" * 2001}, "notes"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_OFFERS, ids=[c[0] for c in BAD_OFFERS])
async def test_bad_contribution_is_rejected_naming_the_field(
    community: Community, case: str, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgument, match=f"^{field}"):
        await community.submit_contribution(**{**GOOD_OFFER, **change})
    assert (await community.contribution_summary()).total_submissions == 0


# Provider directories and the server pool (no database involved)


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def test_providers_read_envelope_bare_list_and_missing(tmp_path: Path) -> None:
    community = Community(
        relay_settings(
            tmp_path,
            community_providers_path=write_json(tmp_path / "community.json", PROVIDERS),
            relay_providers_path=write_json(tmp_path / "relay.json", PROVIDERS["data"]),
        )
    )
    listing = await community.providers(Directory.COMMUNITY)
    assert (listing.data, listing.metadata) == (PROVIDERS["data"], PROVIDERS["metadata"])
    listing = await community.providers(Directory.RELAY)
    assert (listing.data, listing.metadata) == (PROVIDERS["data"], None)

    unset = Community(relay_settings(tmp_path))
    assert (await unset.providers(Directory.COMMUNITY)).data == []
    absent = Community(relay_settings(tmp_path, relay_providers_path=tmp_path / "nope.json"))
    assert (await absent.providers(Directory.RELAY)).data == []


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        b"\xff\xfe\x00",
        json.dumps({"data": {"name": "x"}}),
        json.dumps({"metadata": {}}),
        json.dumps(["not an object"]),
        json.dumps({"data": [], "metadata": ["x"]}),
        json.dumps("a string"),
    ],
)
async def test_unusable_provider_file_is_unavailable(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "community.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    community = Community(relay_settings(tmp_path, community_providers_path=path))

    with pytest.raises(ProviderDirectoryUnavailable) as caught:
        await community.providers(Directory.COMMUNITY)
    assert caught.value.reason == errors_pb2.ERROR_REASON_PROVIDER_DIRECTORY_UNAVAILABLE
    assert caught.value.status_code == grpc.StatusCode.INTERNAL


def test_server_pool(tmp_path: Path) -> None:
    servers = ["https://a.example", "https://b.example", "https://c.example"]
    pool = Community(relay_settings(tmp_path, server_pool=servers)).server_pool()
    assert (pool.configured_servers, pool.primary, pool.secondary, pool.total) == (
        servers,
        servers[0],
        servers[1:],
        3,
    )
    empty = Community(relay_settings(tmp_path)).server_pool()
    assert (empty.configured_servers, empty.primary, empty.secondary, empty.total) == (
        [],
        "",
        [],
        0,
    )


# CommunityService over gRPC


@pytest.fixture
def rpc_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "operator_token": "op-secret",
        "community_providers_path": write_json(tmp_path / "community.json", PROVIDERS),
        "relay_providers_path": tmp_path / "absent.json",
        "server_pool": ["https://a.example", "https://b.example"],
    }


@pytest.fixture
async def stub(
    tmp_path: Path, rpc_settings: dict[str, Any]
) -> AsyncIterator[community_pb2_grpc.CommunityServiceStub]:
    async with _serve(tmp_path, rpc_settings) as stub:
        yield stub


@asynccontextmanager
async def _serve(
    tmp_path: Path, overrides: dict[str, Any]
) -> AsyncIterator[community_pb2_grpc.CommunityServiceStub]:
    net = LocalNetwork(tmp_path)
    try:
        await net.start_relay(**overrides)
        async with grpc.aio.insecure_channel(net.relay_address) as channel:
            yield community_pb2_grpc.CommunityServiceStub(channel)
    finally:
        await net.stop()


async def rpc_failure(call: Any) -> tuple[grpc.StatusCode, str | None]:
    """The failed call's status code and its google.rpc.ErrorInfo reason."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    status = rpc_status.from_call(caught.value)
    info = error_details_pb2.ErrorInfo()
    reason = info.reason if status and status.details[0].Unpack(info) else None
    return caught.value.code(), reason


OPERATOR = (("x-tokenplace-operator", "op-secret"),)


async def test_rpc_list_providers_as_structs(
    stub: community_pb2_grpc.CommunityServiceStub,
) -> None:
    reply = await stub.ListProviders(
        community_pb2.ListProvidersRequest(directory=community_pb2.PROVIDER_DIRECTORY_COMMUNITY)
    )
    assert [row["name"] for row in reply.data] == ["Relay One"]
    assert reply.data[0]["port"] == 443
    assert reply.metadata["updated_at"] == "2025-01-01"

    reply = await stub.ListProviders(
        community_pb2.ListProvidersRequest(directory=community_pb2.PROVIDER_DIRECTORY_RELAY)
    )
    assert list(reply.data) == [] and not reply.HasField("metadata")

    unspecified = stub.ListProviders(community_pb2.ListProvidersRequest())
    assert await rpc_failure(unspecified) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


async def test_rpc_corrupt_provider_file_is_internal_with_reason(
    tmp_path: Path, rpc_settings: dict[str, Any]
) -> None:
    (tmp_path / "community.json").write_text("{broken")
    async with _serve(tmp_path, rpc_settings) as stub:
        request = community_pb2.ListProvidersRequest(
            directory=community_pb2.PROVIDER_DIRECTORY_COMMUNITY
        )
        assert await rpc_failure(stub.ListProviders(request)) == (
            grpc.StatusCode.INTERNAL,
            "PROVIDER_DIRECTORY_UNAVAILABLE",
        )


async def test_rpc_feedback_and_leaderboard(stub: community_pb2_grpc.CommunityServiceStub) -> None:
    for model_id, rating in [("a", 3), ("b", 5), ("a", 4)]:
        reply = await stub.RecordFeedback(
            community_pb2.RecordFeedbackRequest(model_id=model_id, rating=rating)
        )
        assert uuid.UUID(reply.feedback_id)

    board = await stub.GetLeaderboard(community_pb2.GetLeaderboardRequest())
    limited = await stub.GetLeaderboard(community_pb2.GetLeaderboardRequest(limit=1))

    assert [(e.model_id, e.average_rating, e.ratings_count) for e in board.entries] == [
        ("b", 5.0, 1),
        ("a", 3.5, 2),
    ]
    assert all(e.HasField("last_feedback_at") for e in board.entries)
    assert abs(board.updated.ToDatetime(tzinfo=UTC) - datetime.now(UTC)).total_seconds() < 60
    assert [e.model_id for e in limited.entries] == ["b"]
    bad = stub.RecordFeedback(community_pb2.RecordFeedbackRequest(model_id="a", rating=9))
    assert await rpc_failure(bad) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


async def test_rpc_contribution_and_operator_summary(
    stub: community_pb2_grpc.CommunityServiceStub,
) -> None:
    empty = await stub.GetContributionSummary(
        community_pb2.GetContributionSummaryRequest(), metadata=OPERATOR
    )
    assert empty.total_submissions == 0 and not empty.HasField("last_submission_at")

    reply = await stub.SubmitContribution(
        community_pb2.SubmitContributionRequest(
            operator_name="Ada",
            region="eu-west",
            availability="always",
            capabilities=["gpu"],
            contact=community_pb2.ContributionContact(matrix="@ada:example.org"),
        )
    )
    summary = await stub.GetContributionSummary(
        community_pb2.GetContributionSummaryRequest(), metadata=OPERATOR
    )

    assert uuid.UUID(reply.submission_id)
    assert (summary.total_submissions, list(summary.regions)) == (1, ["eu-west"])
    assert dict(summary.capability_counts) == {"gpu": 1}
    assert summary.HasField("last_submission_at")
    no_contact = stub.SubmitContribution(
        community_pb2.SubmitContributionRequest(
            operator_name="Ada", region="eu", availability="always", capabilities=["gpu"]
        )
    )
    assert await rpc_failure(no_contact) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


@pytest.mark.parametrize("metadata", [(), (("x-tokenplace-operator", "wrong"),)])
async def test_rpc_summary_rejects_missing_or_wrong_token(
    stub: community_pb2_grpc.CommunityServiceStub, metadata: tuple[tuple[str, str], ...]
) -> None:
    call = stub.GetContributionSummary(
        community_pb2.GetContributionSummaryRequest(), metadata=metadata
    )
    assert await rpc_failure(call) == (grpc.StatusCode.UNAUTHENTICATED, "OPERATOR_TOKEN_INVALID")


async def test_rpc_summary_unavailable_without_operator_token(
    tmp_path: Path, rpc_settings: dict[str, Any]
) -> None:
    async with _serve(tmp_path, {**rpc_settings, "operator_token": None}) as stub:
        call = stub.GetContributionSummary(
            community_pb2.GetContributionSummaryRequest(), metadata=OPERATOR
        )
        assert await rpc_failure(call) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "OPERATOR_AUTH_NOT_CONFIGURED",
        )


async def test_rpc_server_pool(stub: community_pb2_grpc.CommunityServiceStub) -> None:
    reply = await stub.GetServerPool(community_pb2.GetServerPoolRequest())
    assert list(reply.configured_servers) == ["https://a.example", "https://b.example"]
    assert (reply.primary, list(reply.secondary), reply.total) == (
        "https://a.example",
        ["https://b.example"],
        2,
    )
