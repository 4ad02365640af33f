"""Token Router instances API through a live gateway, in keys mode with minted keys.

CRUD for instances, processing units and software; every call scoped to the caller's
account (another account's instance is 404, never a leak); 401 without a valid key;
400 on bad bodies; the instance token shown at creation only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest

from tests.e2e.test_keys_and_billing import Keyed, keyed_network
from tokenplace.relay.instances import InvalidInstanceToken
from tokenplace.v1 import instance_pb2, instance_pb2_grpc

INSTANCE = {"name": "rig-1", "endpoint": "https://rig-1.example.net/v1"}
GPU = {"kind": "gpu", "model": "RTX 4090", "count": 2, "memory_bytes": 24 * 2**30}
LLAMA = {"name": "llama.cpp", "version": "b4500"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def keyed(tmp_path) -> AsyncIterator[Keyed]:
    async with keyed_network(tmp_path) as network:
        yield network


@contextlib.asynccontextmanager
async def client(keyed: Keyed, key: str = "") -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=keyed.base_url, headers=headers) as http:
        yield http


@contextlib.asynccontextmanager
async def account(keyed: Keyed, name: str) -> AsyncIterator[httpx.AsyncClient]:
    _, key = await keyed.account_with_key(name, 0)
    async with client(keyed, key) as http:
        yield http


async def created(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await http.post(path, json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def error_code(reply: httpx.Response, status: int) -> str:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error["code"]


def without_message(reply: httpx.Response) -> tuple[int, dict[str, Any]]:
    """The status and error, less the message (which names the id asked for)."""
    error = {k: v for k, v in reply.json()["error"].items() if k != "message"}
    return reply.status_code, error


async def test_instance_crud(keyed: Keyed) -> None:
    async with account(keyed, "alice") as http:
        made = await created(http, "/api/instances", INSTANCE)
        assert made["instance_token"].startswith("tp_inst_")
        assert {k: made[k] for k in ("name", "endpoint", "status")} == {
            **INSTANCE,
            "status": "pending",
        }
        path = f"/api/instances/{made['id']}"
        got = (await http.get(path)).json()
        assert got == {k: v for k, v in made.items() if k != "instance_token"}
        assert got["created_at"].endswith("Z") and "T" in got["created_at"]
        bare = await created(http, "/api/instances", {"name": "bare"})
        assert bare["endpoint"] is None
        listed = (await http.get("/api/instances")).json()
        assert listed["object"] == "list"
        assert [i["id"] for i in listed["data"]] == [made["id"], bare["id"]]

        patched = await http.patch(path, json={"name": "rig-one", "status": "disabled"})
        assert patched.status_code == 200
        assert patched.json()["name"] == "rig-one" and patched.json()["status"] == "disabled"
        assert patched.json()["endpoint"] == INSTANCE["endpoint"]  # untouched
        assert patched.json()["updated_at"] >= made["updated_at"]
        cleared = (await http.patch(path, json={"endpoint": None})).json()
        assert cleared["endpoint"] is None and cleared["name"] == "rig-one"

        deleted = await http.delete(path)
        assert deleted.status_code == 200
        assert deleted.json() == {"id": made["id"], "deleted": True}
        assert error_code(await http.get(path), 404) == "instance_not_found"
        assert error_code(await http.delete(path), 404) == "instance_not_found"
        assert [i["id"] for i in (await http.get("/api/instances")).json()["data"]] == [bare["id"]]


async def test_processing_unit_crud(keyed: Keyed) -> None:
    async with account(keyed, "alice") as http:
        instance = await created(http, "/api/instances", {"name": "rig"})
        units = f"/api/instances/{instance['id']}/processing-units"
        gpu = await created(http, units, GPU)
        assert {k: gpu[k] for k in GPU} == GPU
        cpu = await created(http, units, {"kind": "cpu", "model": "EPYC 9654"})
        assert cpu["count"] == 1 and cpu["memory_bytes"] is None
        listed = (await http.get(units)).json()
        assert listed["object"] == "list"
        assert sorted(u["id"] for u in listed["data"]) == sorted([gpu["id"], cpu["id"]])

        patched = await http.patch(f"{units}/{gpu['id']}", json={"count": 4})
        assert patched.status_code == 200
        assert patched.json() == {**gpu, "count": 4}
        cleared = (await http.patch(f"{units}/{gpu['id']}", json={"memory_bytes": None})).json()
        assert cleared == {**gpu, "count": 4, "memory_bytes": None}

        deleted = await http.delete(f"{units}/{cpu['id']}")
        assert deleted.json() == {"id": cpu["id"], "deleted": True}
        assert [u["id"] for u in (await http.get(units)).json()["data"]] == [gpu["id"]]
        missing = await http.patch(f"{units}/{cpu['id']}", json={"count": 2})
        assert error_code(missing, 404) == "processing_unit_not_found"
        assert error_code(await http.delete(f"{units}/{cpu['id']}"), 404) == (
            "processing_unit_not_found"
        )


async def test_software_crud(keyed: Keyed) -> None:
    async with account(keyed, "alice") as http:
        instance = await created(http, "/api/instances", {"name": "rig"})
        software = f"/api/instances/{instance['id']}/software"
        llama = await created(http, software, LLAMA)
        assert {k: llama[k] for k in LLAMA} == LLAMA
        listed = (await http.get(software)).json()
        assert listed == {"object": "list", "data": [llama]}

        patched = await http.patch(f"{software}/{llama['id']}", json={"version": "b4600"})
        assert patched.json() == {**llama, "version": "b4600"}

        deleted = await http.delete(f"{software}/{llama['id']}")
        assert deleted.json() == {"id": llama["id"], "deleted": True}
        assert (await http.get(software)).json()["data"] == []
        gone = await http.patch(f"{software}/{llama['id']}", json={"name": "vllm"})
        assert error_code(gone, 404) == "software_not_found"

        # Deleting the instance takes its inventory with it.
        await created(http, software, LLAMA)
        await http.delete(f"/api/instances/{instance['id']}")
        assert error_code(await http.get(software), 404) == "instance_not_found"


async def test_another_accounts_instance_is_not_found(keyed: Keyed) -> None:
    async with account(keyed, "alice") as alice, account(keyed, "bob") as bob:
        instance = await created(alice, "/api/instances", INSTANCE)
        base = f"/api/instances/{instance['id']}"
        unit = await created(alice, f"{base}/processing-units", GPU)
        program = await created(alice, f"{base}/software", LLAMA)
        attempts = [
            ("GET", base, None),
            ("PATCH", base, {"name": "mine now"}),
            ("DELETE", base, None),
            ("GET", f"{base}/processing-units", None),
            ("POST", f"{base}/processing-units", GPU),
            ("PATCH", f"{base}/processing-units/{unit['id']}", {"count": 9}),
            ("DELETE", f"{base}/processing-units/{unit['id']}", None),
            ("GET", f"{base}/software", None),
            ("POST", f"{base}/software", LLAMA),
            ("PATCH", f"{base}/software/{program['id']}", {"version": "evil"}),
            ("DELETE", f"{base}/software/{program['id']}", None),
        ]
        for method, path, body in attempts:
            reply = await bob.request(method, path, json=body)
            assert error_code(reply, 404) == "instance_not_found", (method, path)
            missing = path.replace(instance["id"], "no-such-instance")
            unknown = await bob.request(method, missing, json=body)
            assert without_message(unknown) == without_message(reply), "it must not leak"
        assert (await bob.get("/api/instances")).json()["data"] == []

        # Alice's instance and inventory are untouched.
        assert (await alice.get(base)).json()["name"] == INSTANCE["name"]
        assert (await alice.get(f"{base}/processing-units")).json()["data"] == [unit]
        assert (await alice.get(f"{base}/software")).json()["data"] == [program]


async def test_every_route_needs_a_valid_key(keyed: Keyed) -> None:
    async with account(keyed, "alice") as alice:
        instance = await created(alice, "/api/instances", {"name": "rig"})
    base = f"/api/instances/{instance['id']}"
    routes = [
        ("GET", "/api/instances", None),
        ("POST", "/api/instances", {"name": "x"}),
        ("GET", base, None),
        ("PATCH", base, {"name": "x"}),
        ("DELETE", base, None),
        ("GET", f"{base}/processing-units", None),
        ("POST", f"{base}/processing-units", GPU),
        ("PATCH", f"{base}/processing-units/u1", {"count": 1}),
        ("DELETE", f"{base}/processing-units/u1", None),
        ("GET", f"{base}/software", None),
        ("POST", f"{base}/software", LLAMA),
        ("PATCH", f"{base}/software/s1", {"version": "1"}),
        ("DELETE", f"{base}/software/s1", None),
    ]
    fake = "tp_live_AAAAAAAAAAAA_" + "B" * 40
    for key in ("", "not-a-key", fake, instance["instance_token"]):
        async with client(keyed, key) as http:
            for method, path, body in routes:
                reply = await http.request(method, path, json=body)
                assert error_code(reply, 401) == "invalid_api_key", (key, method, path)


BAD_INSTANCE_BODIES = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 7}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "rig", "owner": "someone"}, "owner"),
    ({"name": "rig", "endpoint": "ftp://rig.example.net"}, None),
    ({"name": "rig", "endpoint": "not a url"}, None),
]
BAD_INSTANCE_PATCHES = [
    {"status": "bogus"},
    {"name": None},
    {"status": None},
    {"name": ""},
    {"instance_token": "tp_inst_x"},
    {"id": "another-id"},
    {"endpoint": "gopher://x"},
]
BAD_UNITS = [
    {"kind": "fpga", "model": "x"},
    {"kind": "gpu"},
    {**GPU, "count": 0},
    {**GPU, "count": 1025},
    {**GPU, "count": "2"},
    {**GPU, "count": True},
    {**GPU, "memory_bytes": -1},
    {**GPU, "vendor": "nvidia"},
]
BAD_UNIT_PATCHES = [{"count": 0}, {"kind": None}, {"model": ""}, {"id": "x"}]
BAD_SOFTWARE = [{"name": "vllm"}, {"name": "vllm", "version": ""}, {**LLAMA, "path": "/x"}]
BAD_SOFTWARE_PATCHES = [{"version": None}, {"name": " "}, {"license": "MIT"}]


async def test_bad_bodies_are_400(keyed: Keyed) -> None:
    async with account(keyed, "alice") as http:
        for body, param in BAD_INSTANCE_BODIES:
            reply = await http.post("/api/instances", json=body)
            error_code(reply, 400)
            assert reply.json()["error"]["param"] == param, body
        instance = await created(http, "/api/instances", INSTANCE)
        base = f"/api/instances/{instance['id']}"
        unit = await created(http, f"{base}/processing-units", GPU)
        program = await created(http, f"{base}/software", LLAMA)
        before = (await http.get(base)).json()
        cases = [
            *((f"POST {base}/processing-units", body) for body in BAD_UNITS),
            *((f"POST {base}/software", body) for body in BAD_SOFTWARE),
            *((f"PATCH {base}", body) for body in BAD_INSTANCE_PATCHES),
            *((f"PATCH {base}/processing-units/{unit['id']}", b) for b in BAD_UNIT_PATCHES),
            *((f"PATCH {base}/software/{program['id']}", b) for b in BAD_SOFTWARE_PATCHES),
        ]
        for route, body in cases:
            method, path = route.split(" ")
            error_code(await http.request(method, path, json=body), 400)
        not_json = await http.post("/api/instances", content=b"{", headers=JSON)
        assert error_code(not_json, 400) == "invalid_request"
        # Nothing changed.
        assert (await http.get(base)).json() == before
        assert (await http.get(f"{base}/processing-units")).json()["data"] == [unit]
        assert (await http.get(f"{base}/software")).json()["data"] == [program]


async def test_instance_token_is_shown_only_at_creation(keyed: Keyed) -> None:
    async with account(keyed, "alice") as http:
        made = await created(http, "/api/instances", {"name": "rig"})
        token = made["instance_token"]
        path = f"/api/instances/{made['id']}"
        replies = [
            await http.get(path),
            await http.get("/api/instances"),
            await http.patch(path, json={"name": "renamed"}),
        ]
        for reply in replies:
            assert reply.status_code == 200
            assert token not in reply.text and "instance_token" not in reply.text
    assert keyed.net.relay is not None
    instances = keyed.net.relay.instances
    assert (await instances.instance_for_token(token)).id == made["id"]


async def test_rotating_the_instance_token_over_grpc(keyed: Keyed) -> None:
    """RotateInstanceToken has no REST route; it is the relay API for a leaked token."""
    _, key = await keyed.account_with_key("alice", 0)
    async with client(keyed, key) as http:
        made = await created(http, "/api/instances", {"name": "rig"})
    stub = instance_pb2_grpc.InstanceServiceStub(keyed.channel)
    request = instance_pb2.RotateInstanceTokenRequest(instance_id=made["id"])
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.RotateInstanceToken(request)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reply = await stub.RotateInstanceToken(request, metadata=[("authorization", f"Bearer {key}")])
    assert keyed.net.relay is not None
    instances = keyed.net.relay.instances
    assert (await instances.instance_for_token(reply.instance_token)).id == made["id"]
    with pytest.raises(InvalidInstanceToken):
        await instances.instance_for_token(made["instance_token"])
