"""Schemathesis against the OpenAPI document a live gateway serves.

A real network (relay with an operator token, one echo node, a uvicorn gateway) runs on
its own event loop in a background thread, because schemathesis calls the API
synchronously. Each documented operation is one test: schema-valid and schema-violating
requests, bounded and derandomized, must never get a 5xx nor an answer whose status,
content type or body the document does not describe. Random data rarely names a live
model or node, so known-good requests (explicit examples) also walk each success path.
Operator-gated operations run again with the operator token.

schemathesis.pytest's own collection (`schema.parametrize`, `from_fixture`) does not
name items per operation under pytest 9.2, so operations are parametrized here and each
is run through the documented `APIOperation.as_strategy` + Hypothesis API.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig

from tests.support.network import LocalNetwork
from tokenplace.e2ee import Envelope, generate_private_key, open_sealed, public_key_b64, seal_json
from tokenplace.gateway.app import create_app
from tokenplace.gateway.config import GatewaySettings

T = TypeVar("T")
Examples = dict[str, list[dict[str, Any]]]  # operation label -> APIOperation.Case kwargs
OPERATOR_TOKEN = "schemathesis-operator"
OPERATOR_HEADERS = {"X-Token-Place-Operator": OPERATOR_TOKEN}
# The launch contract's internal dispatch routes are fail-closed: 503 is their documented answer.
FAIL_CLOSED_PATHS = ["/relay/api/v1/chat/completions", "/relay/api/v1/source"]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
REQUEST_TIMEOUT_SECONDS = 10
CONFIG: dict[str, Any] = {
    "operations": [
        {
            "include-path": FAIL_CLOSED_PATHS,
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}},
        }
    ],
}
MESSAGES = [{"role": "user", "content": "hi"}]


def operations(document: dict[str, Any]) -> list[tuple[str, bool]]:
    """(label, operator-gated) for every operation in an OpenAPI document."""
    return [
        (f"{method.upper()} {path}", bool(operation.get("security")))
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def documented_operations() -> list[tuple[str, bool]]:
    """The operations create_app documents, for collection; this starts nothing."""
    settings = GatewaySettings(relay="127.0.0.1:9", key_path=Path("unused-gateway-key.pem"))
    return operations(create_app(settings).openapi())


OPERATIONS = documented_operations()
ANONYMOUS = [label for label, _ in OPERATIONS]
OPERATOR_GATED = [label for label, gated in OPERATIONS if gated]


class BackgroundNetwork:
    """A LocalNetwork driven from an event loop in a daemon thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.net = LocalNetwork(tmp_path)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.net.stop())
            self.run(_cancel_leftover_tasks())  # e.g. sealed jobs no node will ever answer
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


async def _cancel_leftover_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    background = BackgroundNetwork(tmp_path_factory.mktemp("schemathesis"))
    try:
        background.run(background.net.start_relay(operator_token=OPERATOR_TOKEN))
        background.run(background.net.start_node())
        yield background.run(background.net.start_gateway()).base_url
    finally:
        background.close()


@pytest.fixture(scope="module")
def api_schema(gateway_url: str) -> schemathesis.BaseSchema:
    """The document as the live gateway serves it at /openapi.json."""
    config = SchemathesisConfig.from_dict(CONFIG)
    return schemathesis.openapi.from_url(f"{gateway_url}/openapi.json", config=config)


# Known-good requests, built against the live network


def seal(value: Any, public_key: str) -> dict[str, str]:
    return seal_json(value, public_key).to_json()


@dataclass
class PollingNode:
    """A compute node registered over HTTP that only polls when an example makes it."""

    key: rsa.RSAPrivateKey
    public_key: str
    credential: str

    @classmethod
    def register(cls, http: httpx.Client, model: str) -> PollingNode:
        key = generate_private_key()
        body = {"server_public_key": public_key_b64(key), "models": [{"id": model}]}
        reply = http.post("/api/v1/relay/servers/register", json=body).raise_for_status()
        sealed = Envelope.from_json(reply.json()["credential"])
        return cls(key, public_key_b64(key), open_sealed(sealed, key).decode("ascii"))

    @property
    def token(self) -> dict[str, str]:
        return {"X-Relay-Server-Token": self.credential}

    def take_job(self, http: httpx.Client) -> dict[str, Any]:
        body = {"server_public_key": self.public_key, "wait_seconds": 10}
        reply = http.post("/api/v1/relay/servers/poll", json=body, headers=self.token)
        job = reply.raise_for_status().json()["job"]
        assert job is not None, "the queued job was not dispatched to this node"
        return job


@dataclass
class Client:
    """A relay-blind requester."""

    key: rsa.RSAPrivateKey
    public_key: str

    def sealed_request(self, node_key: str, request_id: str) -> dict[str, Any]:
        inner = {
            "request_id": request_id,
            "client_public_key": self.public_key,
            "request": {"model": "echo", "messages": MESSAGES, "options": {}},
        }
        return seal(inner, node_key)

    def queue(self, http: httpx.Client, node_key: str, cancel_token: str) -> str:
        request_id = f"st-{uuid.uuid4().hex}"
        body = {
            "server_public_key": node_key,
            "client_public_key": self.public_key,
            "request_id": request_id,
            "cancel_token": cancel_token,
            **self.sealed_request(node_key, request_id),
        }
        http.post("/api/v1/relay/requests", json=body).raise_for_status()
        return request_id


def answered(http: httpx.Client, client: Client, node_key: str) -> str:
    """A request the echo node has answered (retrieve gives 200)."""
    request_id = client.queue(http, node_key, "t" * 16)
    body = {"client_public_key": client.public_key, "request_id": request_id}
    deadline = time.monotonic() + 10
    while http.post("/api/v1/relay/responses/retrieve", json=body).status_code == 202:
        assert time.monotonic() < deadline, "the echo node did not answer"
        time.sleep(0.02)
    return request_id


def completions(client: Client, gateway_key: str, echo_key: str) -> Examples:
    """Plaintext, encrypted and relay-blind synchronous completions of the echo model."""
    sealed = {"encrypted": True, "client_public_key": client.public_key}
    cases: Examples = {}
    for prefix in ("/api/v1", "/v1"):
        blind_id = f"st-sync-{uuid.uuid4().hex}"
        cases[f"GET {prefix}/models/{{model_id}}"] = [{"path_parameters": {"model_id": "echo"}}]
        cases[f"POST {prefix}/chat/completions"] = [
            {"body": {"model": "echo", "messages": MESSAGES}},
            {"body": {"model": "echo", **sealed, "messages": seal(MESSAGES, gateway_key)}},
            {
                "body": {
                    "model": "echo",
                    **sealed,
                    "server_public_key": echo_key,
                    "request_id": blind_id,
                    "messages": client.sealed_request(echo_key, blind_id),
                }
            },
        ]
        cases[f"POST {prefix}/completions"] = [
            {"body": {"model": "echo", "prompt": "hi"}},
            {"body": {"model": "echo", **sealed, "prompt": seal("hi", gateway_key)}},
        ]
        cases[f"POST {prefix}/relay/unregister"] = [
            {"body": {"server_public_key": public_key_b64(generate_private_key())}}
        ]
    return cases


def relay_routes(http: httpx.Client, client: Client, echo_key: str) -> Examples:
    """Relay-blind and HTTP-node routes, each with the ids and credentials it needs."""
    held = PollingNode.register(http, "schemathesis-held")  # its jobs stay queued
    leaving = PollingNode.register(http, "schemathesis-leaving")
    worker = PollingNode.register(http, "schemathesis-worker")
    pending = client.queue(http, held.public_key, "p" * 16)
    cancellable = client.queue(http, held.public_key, "c" * 16)
    client.queue(http, worker.public_key, "w" * 16)
    job = worker.take_job(http)
    done = answered(http, client, echo_key)
    fresh = public_key_b64(generate_private_key())
    owner = client.public_key
    return {
        "GET /api/v1/relay/servers/next": [{"query": {"model": "echo"}}],
        "POST /api/v1/relay/requests": [
            {
                "body": {
                    "server_public_key": echo_key,
                    "client_public_key": owner,
                    "request_id": "st-queued",
                    "cancel_token": "q" * 16,
                    **client.sealed_request(echo_key, "st-queued"),
                }
            },
        ],
        "POST /api/v1/relay/responses/retrieve": [
            {"body": {"client_public_key": owner, "request_id": pending}},
            {"body": {"client_public_key": owner, "request_id": done}},
        ],
        "POST /api/v1/relay/requests/cancel": [
            {
                "body": {
                    "client_public_key": owner,
                    "request_id": cancellable,
                    "cancel_token": "c" * 16,
                }
            },
        ],
        "POST /api/v1/relay/servers/register": [
            {"body": {"server_public_key": fresh, "models": [{"id": "schemathesis-new"}]}}
        ],
        "POST /api/v1/relay/servers/unregister": [
            {"headers": leaving.token, "body": {"server_public_key": leaving.public_key}}
        ],
        "POST /api/v1/relay/servers/poll": [
            {
                "headers": held.token,
                "body": {"server_public_key": held.public_key, "wait_seconds": 0},
            },
        ],
        "POST /api/v1/relay/responses": [
            {
                "headers": worker.token,
                "body": {
                    "server_public_key": worker.public_key,
                    "job_id": job["job_id"],
                    **seal({"request_id": job["request_id"], "error": {}}, owner),
                },
            },
            {
                "headers": held.token,
                "body": {
                    "server_public_key": held.public_key,
                    "job_id": "no-such-job",
                    "failure": "busy",
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def known_good(gateway_url: str) -> Examples:
    with httpx.Client(base_url=gateway_url, timeout=10) as http:
        key = generate_private_key()
        client = Client(key, public_key_b64(key))
        gateway_key = http.get("/api/v1/public-key").json()["public_key"]
        node = http.get("/api/v1/relay/servers/next", params={"model": "echo"}).json()
        echo_key = node["server_public_key"]
        return {
            **completions(client, gateway_key, echo_key),
            **relay_routes(http, client, echo_key),
        }


# The runs


def fuzz(
    operation: schemathesis.APIOperation,
    known_good: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> None:
    """Known-good, then bounded derandomized positive and negative cases, each checked."""
    for mode, max_examples in EXAMPLES.items():

        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)

        if mode is GenerationMode.POSITIVE:
            for kwargs in known_good:
                check = example(case=operation.Case(**kwargs))(check)
        test = settings(
            max_examples=max_examples,
            deadline=5_000,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(case=operation.as_strategy(generation_mode=mode))(check))
        try:
            test()
        except Unsatisfiable:
            # Nothing schema-invalid can be sent (no inputs, or only free-form path strings).
            if mode is not GenerationMode.NEGATIVE:
                raise


def find(schema: schemathesis.BaseSchema, label: str) -> schemathesis.APIOperation:
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    return operation


def test_the_live_gateway_serves_the_collected_operations(gateway_url: str) -> None:
    served = httpx.get(f"{gateway_url}/openapi.json", timeout=10).json()
    assert operations(served) == OPERATIONS


def test_operator_operations_are_documented_as_such() -> None:
    assert set(OPERATOR_GATED) == {
        "GET /api/v1/community/contributions/summary",
        "POST /api/v1/public-key/rotate",
        "POST /v1/public-key/rotate",
        "POST /api/v1/relay/unregister",
        "POST /v1/relay/unregister",
        "GET /api/p2p/token",
    }


@pytest.mark.parametrize("label", ANONYMOUS)
def test_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, known_good: Examples, label: str
) -> None:
    fuzz(find(api_schema, label), known_good.get(label, []))


@pytest.mark.parametrize("label", OPERATOR_GATED)
def test_operator_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, known_good: Examples, label: str
) -> None:
    fuzz(find(api_schema, label), known_good.get(label, []), headers=OPERATOR_HEADERS)
