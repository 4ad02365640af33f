"""The community routes of API v1, through a live gateway and relay."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.network import LocalNetwork

API = "/api/v1"
OPERATOR_TOKEN = "op-secret"
SERVERS = ["https://relay-a.example", "https://relay-b.example", "https://relay-c.example"]
COMMUNITY_PROVIDERS = {
    "data": [
        {
            "name": "Relay One",
            "url": "https://relay.one",
            "port": 443,
            "uptime": 0.995,
            "regions": ["eu-west", "us-east"],
            "contact": None,
        }
    ],
    "metadata": {"updated_at": "2025-01-01T00:00:00Z", "version": 2},
}
RELAY_PROVIDERS = [{"name": "self-hosted", "url": "https://self.example"}]
OFFER: dict[str, Any] = {
    "operator_name": "Ada's rack",
    "region": "eu-west",
    "availability": "nights and weekends",
    "capabilities": ["llama-3.1-8b-instruct", "gpu"],
    "contact": {"email": "ada@example.org"},
    "hardware": "RTX 4090, 64 GB RAM",
}


@dataclass
class Deployment:
    net: LocalNetwork
    http: httpx.AsyncClient  # based at /api/v1

    @property
    def root(self) -> str:
        return self.net.gateways[0].base_url


Start = Callable[..., Awaitable[Deployment]]


def assert_openai_error(response: httpx.Response, status: int, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], str)
    if param is not None:
        assert error["param"] == param


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def configured(tmp_path: Path) -> dict[str, Any]:
    return {
        "operator_token": OPERATOR_TOKEN,
        "server_pool": SERVERS,
        "community_providers_path": write_json(tmp_path / "community.json", COMMUNITY_PROVIDERS),
        "relay_providers_path": write_json(tmp_path / "relay.json", RELAY_PROVIDERS),
    }


@pytest.fixture
async def start_gateway(tmp_path: Path) -> AsyncIterator[Start]:
    """Starts a relay (with these settings overrides) and a gateway in front of it."""
    started: list[Deployment] = []

    async def start(**overrides: Any) -> Deployment:
        net = LocalNetwork(tmp_path)
        try:
            await net.start_relay(**overrides)
            gateway = await net.start_gateway()
        except BaseException:
            await net.stop()
            raise
        deployment = Deployment(net, httpx.AsyncClient(base_url=gateway.base_url + API, timeout=10))
        started.append(deployment)
        return deployment

    try:
        yield start
    finally:
        for deployment in started:
            await deployment.http.aclose()
            await deployment.net.stop()


@pytest.fixture
async def deployment(start_gateway: Start, tmp_path: Path) -> Deployment:
    return await start_gateway(**configured(tmp_path))


@pytest.fixture
def http(deployment: Deployment) -> httpx.AsyncClient:
    return deployment.http


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment


# Provider directories


async def test_community_providers_lists_the_file_with_metadata(http: httpx.AsyncClient) -> None:
    response = await http.get("/community/providers")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"object": "list", **COMMUNITY_PROVIDERS}
    # Whole numbers stay integers (the relay carries them as protobuf doubles).
    assert type(body["data"][0]["port"]) is int
    assert type(body["metadata"]["version"]) is int


async def test_server_providers_from_a_bare_list_has_no_metadata(http: httpx.AsyncClient) -> None:
    response = await http.get("/server-providers")

    assert response.status_code == 200, response.text
    assert response.json() == {"object": "list", "data": RELAY_PROVIDERS}


async def test_unconfigured_provider_directories_are_empty(start_gateway: Start) -> None:
    http = (await start_gateway()).http

    for path in ("/community/providers", "/server-providers"):
        response = await http.get(path)
        assert response.status_code == 200, response.text
        assert response.json() == {"object": "list", "data": []}


@pytest.mark.parametrize("path", ["/community/providers", "/server-providers"])
async def test_corrupt_provider_file_is_500(
    start_gateway: Start, tmp_path: Path, path: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [', encoding="utf-8")
    http = (await start_gateway(community_providers_path=broken, relay_providers_path=broken)).http

    response = await http.get(path)

    assert_openai_error(response, 500)
    assert response.json()["error"]["code"] == "provider_directory_unavailable"


# Feedback and leaderboard


async def rate(http: httpx.AsyncClient, model_id: str, rating: int) -> httpx.Response:
    return await http.post("/community/feedback", json={"model_id": model_id, "rating": rating})


async def test_feedback_is_recorded_with_an_id(http: httpx.AsyncClient) -> None:
    first = await rate(http, "llama-3.1-8b-instruct", 5)
    # JSON Schema's integer includes 4.0, so the gateway accepts it.
    second = await http.post(
        "/community/feedback", json={"model_id": "llama-3.1-8b-instruct", "rating": 4.0}
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["status"] == "recorded"
    assert set(first.json()) == {"id", "status"}
    assert uuid.UUID(first.json()["id"]) != uuid.UUID(second.json()["id"])


async def test_leaderboard_ranks_models_by_average_rating(http: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    for model_id, rating in [("b", 4), ("a", 5), ("a", 4), ("c", 2), ("b", 5), ("c", 3)]:
        assert (await rate(http, model_id, rating)).status_code == 201
    await rate(http, "d", 4)

    response = await http.get("/community/leaderboard")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    assert [(e["model_id"], e["average_rating"], e["ratings_count"]) for e in body["data"]] == [
        ("a", 4.5, 2),
        ("b", 4.5, 2),
        ("d", 4.0, 1),
        ("c", 2.5, 2),
    ]
    for entry in body["data"]:
        assert set(entry) == {"model_id", "average_rating", "ratings_count", "last_feedback_at"}
        assert before <= parse_time(entry["last_feedback_at"]) <= datetime.now(UTC)
    assert before <= parse_time(body["updated"]) <= datetime.now(UTC)


async def test_leaderboard_limit(http: httpx.AsyncClient) -> None:
    assert (await http.get("/community/leaderboard")).json()["data"] == []
    for model_id, rating in [("a", 5), ("b", 4), ("c", 3)]:
        await rate(http, model_id, rating)

    response = await http.get("/community/leaderboard", params={"limit": 2})

    assert response.status_code == 200, response.text
    assert [entry["model_id"] for entry in response.json()["data"]] == ["a", "b"]
    huge = await http.get("/community/leaderboard", params={"limit": 10**12})
    assert len(huge.json()["data"]) == 3


@pytest.mark.parametrize("limit", ["0", "-3", "abc", "1.5", ""])
async def test_bad_leaderboard_limit_is_400(http: httpx.AsyncClient, limit: str) -> None:
    response = await http.get("/community/leaderboard", params={"limit": limit})

    assert_openai_error(response, 400, "limit")


BAD_FEEDBACK: list[tuple[str, Any, str | None]] = [
    ("missing model_id", {"rating": 4}, "model_id"),
    ("empty model_id", {"model_id": "", "rating": 4}, "model_id"),
    ("blank model_id", {"model_id": "   ", "rating": 4}, "model_id"),
    ("model_id a number", {"model_id": 7, "rating": 4}, "model_id"),
    ("missing rating", {"model_id": "m"}, "rating"),
    ("rating zero", {"model_id": "m", "rating": 0}, "rating"),
    ("rating six", {"model_id": "m", "rating": 6}, "rating"),
    ("rating a string", {"model_id": "m", "rating": "5"}, "rating"),
    ("rating a float", {"model_id": "m", "rating": 4.5}, "rating"),
    ("rating a bool", {"model_id": "m", "rating": True}, "rating"),
    ("body a list", [{"model_id": "m", "rating": 4}], None),
]


@pytest.mark.parametrize(("case", "body", "param"), BAD_FEEDBACK, ids=[c[0] for c in BAD_FEEDBACK])
async def test_bad_feedback_is_400(
    http: httpx.AsyncClient, case: str, body: Any, param: str | None
) -> None:
    response = await http.post("/community/feedback", json=body)

    assert_openai_error(response, 400, param)
    assert (await http.get("/community/leaderboard")).json()["data"] == []


async def test_feedback_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/community/feedback", content=b"{rating", headers={"content-type": "application/json"}
    )

    assert_openai_error(response, 400)


# Contributions


async def test_contribution_is_queued(http: httpx.AsyncClient) -> None:
    response = await http.post("/community/contributions", json=OFFER)

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"status", "submission_id"}
    assert body["status"] == "queued"
    assert uuid.UUID(body["submission_id"]).version == 4


BAD_OFFERS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown field", {**OFFER, "gpu_count": 2}, "gpu_count"),
    ("missing region", {k: v for k, v in OFFER.items() if k != "region"}, "region"),
    ("blank operator_name", {**OFFER, "operator_name": " "}, "operator_name"),
    ("long operator_name", {**OFFER, "operator_name": "x" * 201}, "operator_name"),
    ("empty availability", {**OFFER, "availability": ""}, "availability"),
    ("no capabilities", {**OFFER, "capabilities": []}, "capabilities"),
    ("33 capabilities", {**OFFER, "capabilities": [f"c{i}" for i in range(33)]}, "capabilities"),
    ("empty capability", {**OFFER, "capabilities": ["gpu", ""]}, "capabilities[1]"),
    ("capabilities a string", {**OFFER, "capabilities": "gpu"}, "capabilities"),
    ("missing contact", {k: v for k, v in OFFER.items() if k != "contact"}, "contact"),
    ("empty contact", {**OFFER, "contact": {}}, "contact"),
    ("contact all null", {**OFFER, "contact": {"email": None, "website": None}}, "contact"),
    ("unknown contact field", {**OFFER, "contact": {"fax": "123"}}, "contact.fax"),
    ("long hardware", {**OFFER, "hardware": "x" * 2001}, "hardware"),
    ("long notes", {**OFFER, "notes": "x" * 2001}, "notes"),
]


@pytest.mark.parametrize(("case", "body", "param"), BAD_OFFERS, ids=[c[0] for c in BAD_OFFERS])
async def test_bad_contribution_is_400(
    http: httpx.AsyncClient, case: str, body: dict[str, Any], param: str
) -> None:
    response = await http.post("/community/contributions", json=body)

    assert_openai_error(response, 400, param)
    summary = await http.get(
        "/community/contributions/summary", headers={"X-Token-Place-Operator": OPERATOR_TOKEN}
    )
    assert summary.json()["total_submissions"] == 0


# Contribution summary (operator-gated)


async def test_contribution_summary_for_the_operator(http: httpx.AsyncClient) -> None:
    headers = {"X-Token-Place-Operator": OPERATOR_TOKEN}
    empty = await http.get("/community/contributions/summary", headers=headers)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "object": "community.contribution_summary",
        "total_submissions": 0,
        "regions": [],
        "capability_counts": {},
        "last_submission_at": None,
    }
    before = datetime.now(UTC)
    await http.post("/community/contributions", json=OFFER)
    await http.post(
        "/community/contributions",
        json={**OFFER, "region": "ap-south", "capabilities": ["gpu", "cpu"]},
    )

    response = await http.get(
        "/community/contributions/summary", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "community.contribution_summary"
    assert body["total_submissions"] == 2
    assert body["regions"] == ["ap-south", "eu-west"]
    assert body["capability_counts"] == {"cpu": 1, "gpu": 2, "llama-3.1-8b-instruct": 1}
    assert before <= parse_time(body["last_submission_at"]) <= datetime.now(UTC)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Token-Place-Operator": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {OPERATOR_TOKEN}"},
        {"X-Token-Place-Operator": "caf\u00e9"},
    ],
    ids=["none", "wrong header", "wrong bearer", "not bearer", "not ascii"],
)
async def test_contribution_summary_without_a_valid_token_is_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    encoded = {key: value.encode("latin-1") for key, value in headers.items()}

    response = await http.get("/community/contributions/summary", headers=encoded)

    assert_openai_error(response, 401)
    assert response.json()["error"]["code"] == "operator_token_invalid"


async def test_contribution_summary_without_operator_auth_is_503(start_gateway: Start) -> None:
    http = (await start_gateway(operator_token=None)).http

    response = await http.get(
        "/community/contributions/summary", headers={"X-Token-Place-Operator": OPERATOR_TOKEN}
    )

    assert_openai_error(response, 503)
    assert response.json()["error"]["code"] == "operator_auth_not_configured"


# Server nodes


async def test_server_nodes_lists_the_pool(http: httpx.AsyncClient) -> None:
    response = await http.get("/relay/server-nodes")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "configured_servers": SERVERS,
        "primary": SERVERS[0],
        "secondary": SERVERS[1:],
        "total": 3,
    }


async def test_empty_server_pool_has_no_primary(start_gateway: Start) -> None:
    http = (await start_gateway()).http

    response = await http.get("/relay/server-nodes")

    assert response.json() == {
        "configured_servers": [],
        "primary": None,
        "secondary": [],
        "total": 0,
    }


async def test_relay_down_is_503(deployment: Deployment) -> None:
    assert deployment.net.relay is not None
    await deployment.net.relay.stop(grace=0)  # the gateway keeps running

    response = await deployment.http.get("/relay/server-nodes")

    assert_openai_error(response, 503)
    assert response.json()["error"]["code"] == "rate_limit_unavailable"


ROUTES = {
    ("get", "/api/v1/community/providers"): {"200", "500", "503"},
    ("get", "/api/v1/server-providers"): {"200", "500", "503"},
    ("get", "/api/v1/community/leaderboard"): {"200", "400", "503"},
    ("post", "/api/v1/community/feedback"): {"201", "400", "413", "503"},
    ("post", "/api/v1/community/contributions"): {"202", "400", "413", "503"},
    ("get", "/api/v1/community/contributions/summary"): {"200", "401", "503"},
    ("get", "/api/v1/relay/server-nodes"): {"200", "503"},
}


async def test_openapi_documents_routes_and_error_statuses(deployment: Deployment) -> None:
    spec = (await deployment.http.get(f"{deployment.root}/openapi.json")).json()

    for (method, path), statuses in ROUTES.items():
        responses = spec["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, sorted(responses))
        for status in statuses - {"200", "201", "202"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    rating = spec["components"]["schemas"]["FeedbackIn"]["properties"]["rating"]
    assert (rating["type"], rating["minimum"], rating["maximum"]) == ("integer", 1, 5)
    summary = spec["paths"]["/api/v1/community/contributions/summary"]["get"]
    assert summary["security"], "the operator token schemes should be documented"
