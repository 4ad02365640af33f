"""The network join token: nodes without it are refused once, clearly, and stop trying."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from tests.support.monitoring_watch import monitoring_stub
from tests.support.network import LocalNetwork
from tests.support.processes import ROOT
from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.node.agent import RegistrationRejected
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.polling_agent import PollingNodeAgent
from tokenplace.v1 import monitoring_pb2

JOIN_TOKEN = "join-7f3c9a-very-secret"
OPERATOR_TOKEN = "operator-token-for-tests"
FIX = "--join-token or TOKENPLACE_NODE_JOIN_TOKEN"
REGISTER = "/api/v1/relay/servers/register"


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[LocalNetwork]:
    """A relay that requires the join token."""
    net = LocalNetwork(tmp_path)
    await net.start_relay(join_token=JOIN_TOKEN, operator_token=OPERATOR_TOKEN)
    try:
        yield net
    finally:
        await net.stop()


def assert_token_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "logging was not captured"
    for record in caplog.records:
        assert JOIN_TOKEN not in record.getMessage()
        assert JOIN_TOKEN not in json.dumps(record.__dict__, default=str)


async def test_node_with_the_token_registers(
    guarded: LocalNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    node = await guarded.start_node(join_token=JOIN_TOKEN)
    assert [n.node_id for n in guarded.relay.registry.all()] == [node.agent.node_id]
    assert_token_not_logged(caplog)


@pytest.mark.parametrize(
    ("presented", "says"), [(None, "requires a join token"), ("not-the-token", "is wrong")]
)
async def test_node_without_the_right_token_stops_at_once(
    guarded: LocalNetwork, caplog: pytest.LogCaptureFixture, presented: str | None, says: str
) -> None:
    caplog.set_level(logging.DEBUG)
    overrides = {"join_token": presented} if presented else {}
    started = time.monotonic()
    with pytest.raises(RegistrationRejected) as rejected:
        await guarded.start_node(**overrides)
    assert time.monotonic() - started < 3
    assert says in str(rejected.value) and FIX in str(rejected.value)
    refusals = [r for r in caplog.records if "registration refused" in r.getMessage()]
    assert len(refusals) == 1  # refused once: the node did not retry
    assert guarded.relay.registry.all() == []
    assert_token_not_logged(caplog)


async def test_node_process_exits_nonzero_naming_the_fix(
    guarded: LocalNetwork, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "node",
        "--relay",
        guarded.relay_address,
        "--engine",
        "echo",
        "--key-path",
        str(tmp_path / "refused.pem"),
        "--join-token",
        "not-the-token",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(15):
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 2, text
    errors = [line for line in text.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and FIX in errors[0], text


async def test_http_node_registration_needs_the_token(guarded: LocalNetwork) -> None:
    gateway = await guarded.start_gateway()
    body = {
        "server_public_key": public_key_b64(generate_private_key()),
        "models": [{"id": "echo"}],
        "slots": 1,
    }
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        missing = await http.post(REGISTER, json=body)
        wrong = await http.post(REGISTER, json=body, headers={"X-Tokenplace-Join-Token": "nope"})
        right = await http.post(
            REGISTER, json=body, headers={"X-Tokenplace-Join-Token": JOIN_TOKEN}
        )
    for reply in (missing, wrong):
        assert reply.status_code == 401
        error = reply.json()["error"]
        assert error["code"] == "join_token_invalid" and FIX in error["message"]
    assert right.status_code == 200, right.text


@pytest.mark.parametrize(("presented", "admitted"), [(JOIN_TOKEN, True), ("nope", False)])
async def test_http_node_agent_presents_the_token(
    guarded: LocalNetwork, presented: str, admitted: bool
) -> None:
    gateway = await guarded.start_gateway()
    agent = PollingNodeAgent(
        gateway.base_url, EchoEngine(), generate_private_key(), join_token=presented
    )
    task = asyncio.create_task(agent.run())
    try:
        registered = asyncio.ensure_future(agent.registered.wait())
        async with asyncio.timeout(5):
            await asyncio.wait({registered, task}, return_when=asyncio.FIRST_COMPLETED)
        registered.cancel()
        if admitted:
            assert agent.registered.is_set()
        else:
            with pytest.raises(RegistrationRejected, match="wrong"):
                task.result()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_operator_reads_the_join_token(guarded: LocalNetwork) -> None:
    async with grpc.aio.insecure_channel(guarded.relay_address) as channel:
        stub = monitoring_stub(channel)
        request = monitoring_pb2.GetJoinTokenRequest()
        reply = await stub.GetJoinToken(
            request, metadata=(("x-tokenplace-operator", OPERATOR_TOKEN),), timeout=5
        )
        assert reply.join_token == JOIN_TOKEN
        for metadata in ((), (("x-tokenplace-operator", "wrong"),)):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetJoinToken(request, metadata=metadata, timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_join_token_is_not_found_when_the_relay_is_open(tmp_path: Path) -> None:
    net = LocalNetwork(tmp_path)
    await net.start_relay(operator_token=OPERATOR_TOKEN)
    try:
        async with grpc.aio.insecure_channel(net.relay_address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await monitoring_stub(channel).GetJoinToken(
                    monitoring_pb2.GetJoinTokenRequest(),
                    metadata=(("x-tokenplace-operator", OPERATOR_TOKEN),),
                    timeout=5,
                )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        node = await net.start_node()  # and nodes join without one
        assert node.agent.registered.is_set()
    finally:
        await net.stop()
