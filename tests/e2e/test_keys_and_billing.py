"""keys mode: API keys, token billing and rate limits, through the official openai SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import openai
import pytest

from tests.support.network import LocalNetwork
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tests.support.processes import ROOT
from tokenplace.client.accounts import AdminClient
from tokenplace.e2ee.payload import ChatMessage, JobRequest, SamplingOptions
from tokenplace.gateway.reservations import reservation_estimate
from tokenplace.node.engines.echo import EchoEngine

OPERATOR = "operator-token-for-billing-tests"
PROMPT = "count my tokens please"


@dataclass
class Keyed:
    net: LocalNetwork
    admin: AdminClient
    channel: grpc.aio.Channel

    @property
    def base_url(self) -> str:
        return self.net.gateways[0].base_url

    async def account_with_key(self, name: str, tokens: int) -> tuple[str, str]:
        account = await self.admin.create_account(name)
        if tokens:
            await self.admin.grant(account.id, tokens)
        _, secret = await self.admin.mint_key(account.id, "test")
        return account.id, secret

    async def get(self, path: str, key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            return await http.get(path, headers=headers)

    async def settled(self) -> None:
        """Billing settles after the answer is sent; wait for it before reading balances."""
        assert self.net.relay is not None
        await self.net.relay.metered.drain()

    def sdk(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=key, max_retries=0)


@contextlib.asynccontextmanager
async def keyed_network(
    tmp_path, engine: EchoEngine | None = None, with_node: bool = True, **relay: Any
) -> AsyncIterator[Keyed]:
    """A relay in keys mode with an operator token, a gateway, and (unless told) an echo node."""
    net = LocalNetwork(tmp_path)
    await net.start_relay(auth_mode="keys", operator_token=OPERATOR, **relay)
    channel = grpc.aio.insecure_channel(net.relay_address)
    try:
        if with_node:
            await net.start_node(engine=engine)
        await net.start_gateway()
        yield Keyed(net, AdminClient(channel, OPERATOR, timeout_seconds=10), channel)
    finally:
        await channel.close()
        await net.stop()


@pytest.fixture
async def keyed(tmp_path) -> AsyncIterator[Keyed]:
    async with keyed_network(tmp_path) as network:
        yield network


def chat(client: openai.AsyncOpenAI, max_tokens: int = 8):
    return client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": PROMPT}], max_tokens=max_tokens
    )


def reservation(max_tokens: int) -> int:
    job = JobRequest(
        model="echo",
        messages=[ChatMessage(role="user", content=PROMPT)],
        options=SamplingOptions(max_tokens=max_tokens),
    )
    return reservation_estimate(job)


async def test_minted_key_works_and_pays_its_real_usage(keyed: Keyed) -> None:
    account_id, key = await keyed.account_with_key("alice", 10_000)
    reply = await chat(keyed.sdk(key))
    assert reply.choices[0].message.content == "echo: count my tokens please"
    assert reply.usage is not None
    await keyed.settled()
    me = await keyed.get("/api/me", key)
    assert me.json()["id"] == account_id
    assert me.json()["balance_tokens"] == 10_000 - reply.usage.total_tokens


async def test_missing_and_revoked_keys_raise_authentication_error(keyed: Keyed) -> None:
    _, key = await keyed.account_with_key("bob", 10_000)
    with pytest.raises(openai.AuthenticationError) as missing:
        await chat(keyed.sdk("not-a-key"))
    assert missing.value.body["code"] == "invalid_api_key"
    async with httpx.AsyncClient(
        base_url=keyed.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        keys = (await http.get("/api/keys")).json()["data"]
        assert len(keys) == 1 and "secret" not in keys[0]
        assert (await http.delete(f"/api/keys/{keys[0]['id']}")).json()["revoked_at"]
    with pytest.raises(openai.AuthenticationError):
        await chat(keyed.sdk(key))


async def test_keys_routes_mint_list_whoami(keyed: Keyed) -> None:
    account_id, key = await keyed.account_with_key("carol", 0)
    async with httpx.AsyncClient(
        base_url=keyed.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        who = (await http.get("/api/whoami")).json()
        assert who["account_id"] == account_id
        assert key.startswith(f"tp_live_{who['key_prefix']}_")
        minted = await http.post("/api/keys", json={"name": "ci"})
        assert minted.status_code == 201 and minted.json()["secret"].startswith("tp_live_")
        listed = (await http.get("/api/keys")).json()["data"]
        assert sorted(k["name"] for k in listed) == ["ci", "test"]
        assert all(minted.json()["secret"] not in str(k) for k in listed)
    anonymous = await keyed.get("/api/whoami", "")
    assert anonymous.status_code == 401


async def test_short_balance_is_402_and_charges_nothing(keyed: Keyed) -> None:
    _, key = await keyed.account_with_key("dave", reservation(8) - 1)
    with pytest.raises(openai.APIStatusError) as caught:
        await chat(keyed.sdk(key))
    assert caught.value.status_code == 402
    assert caught.value.body["code"] == "insufficient_tokens"
    me = await keyed.get("/api/me", key)
    assert me.json()["balance_tokens"] == reservation(8) - 1


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """The relay's database: its SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = await cluster.create_database()
    try:
        yield url
    finally:
        await cluster.drop_database(url)


class GatedEcho(EchoEngine):
    """Echo that holds every generation until the test opens the gate."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots=slots)
        self.gate = threading.Event()

    def generate(self, request, cancelled):  # type: ignore[no-untyped-def]
        self.gate.wait(30)
        return super().generate(request, cancelled)


async def test_hundred_concurrent_requests_with_credit_for_ten(tmp_path, database_url) -> None:
    # No answer (and so no refund of unused reservation) until all 100 have been judged.
    engine = GatedEcho(slots=10)
    relay = {
        "account_concurrent_requests": 1000,
        "key_requests_per_minute": 1000,
        "global_requests_per_minute": 1000,
        "database_url": database_url,
    }
    async with keyed_network(tmp_path, engine, **relay) as keyed:
        each = reservation(8)
        account_id, key = await keyed.account_with_key("erin", 10 * each)
        client = keyed.sdk(key)
        calls = [asyncio.ensure_future(chat(client)) for _ in range(100)]
        for finished, call in enumerate(asyncio.as_completed(calls), start=1):
            with contextlib.suppress(openai.APIStatusError):
                await call
            if finished == 90:  # the unaffordable ones are all answered: let the rest run
                engine.gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, openai.APIStatusError)]
        assert len(ok) == 10 and len(refused) == 90
        assert {r.status_code for r in refused} == {402}
        charged = sum(r.usage.total_tokens for r in ok if r.usage)
        await keyed.settled()
        relay_server = keyed.net.relay
        assert relay_server is not None
        ledger = await relay_server.billing.ledger(account_id)
        assert sum(entry.tokens for entry in ledger) == 10 * each - charged
        me = await relay_server.accounts.me(account_id)
        assert me.balance_tokens == 10 * each - charged >= 0


async def test_per_key_rate_limit_is_429_with_retry_after(tmp_path) -> None:
    async with keyed_network(tmp_path, key_requests_per_minute=3) as keyed:
        _, key = await keyed.account_with_key("frank", 100_000)
        client = keyed.sdk(key)
        for _ in range(3):
            await chat(client)
        with pytest.raises(openai.RateLimitError) as caught:
            await chat(client)
        assert caught.value.body["code"] == "rate_limit_error"
        assert int(caught.value.response.headers["retry-after"]) >= 1


async def test_per_account_concurrency_limit(tmp_path) -> None:
    engine = EchoEngine(slots=4, token_delay_seconds=0.3)
    async with keyed_network(tmp_path, engine, account_concurrent_requests=2) as keyed:
        _, key = await keyed.account_with_key("grace", 100_000)
        client = keyed.sdk(key)
        results = await asyncio.gather(*(chat(client) for _ in range(4)), return_exceptions=True)
        limited = [r for r in results if isinstance(r, openai.RateLimitError)]
        assert len(limited) == 2 and sum(not isinstance(r, Exception) for r in results) == 2


async def test_global_limit_holds_across_accounts(tmp_path) -> None:
    async with keyed_network(tmp_path, global_requests_per_minute=2) as keyed:
        clients = [
            keyed.sdk((await keyed.account_with_key(n, 100_000))[1]) for n in ("h1", "h2", "h3")
        ]
        await chat(clients[0])
        await chat(clients[1])
        with pytest.raises(openai.RateLimitError):
            await chat(clients[2])


async def test_lost_node_charges_nothing(tmp_path) -> None:
    engine = EchoEngine(slots=1, token_delay_seconds=0.5)
    async with keyed_network(tmp_path, engine) as keyed:
        relay = keyed.net.relay
        assert relay is not None
        account_id, key = await keyed.account_with_key("ivan", 10_000)
        request = asyncio.create_task(chat(keyed.sdk(key)))
        await relay.dispatcher.changes.wait_until(lambda: bool(relay.dispatcher.jobs()))
        await keyed.net.nodes[0].stop()  # the only node vanishes mid-generation
        with pytest.raises(openai.InternalServerError) as caught:
            await request
        assert caught.value.status_code == 503
        await keyed.settled()
        assert (await relay.accounts.me(account_id)).balance_tokens == 10_000
        kinds = [entry.kind for entry in await relay.billing.ledger(account_id)]
        assert sorted(kinds) == ["grant", "release", "reserve"]


class BrokenEngine(EchoEngine):
    """A fake engine whose generation always fails (a crashed model)."""

    def generate(self, request, cancelled):  # type: ignore[no-untyped-def]
        raise RuntimeError("model crashed")


async def test_upstream_failure_is_502_and_charges_nothing(tmp_path) -> None:
    async with keyed_network(tmp_path, BrokenEngine()) as keyed:
        account_id, key = await keyed.account_with_key("judy", 10_000)
        with pytest.raises(openai.APIStatusError) as caught:
            await chat(keyed.sdk(key))
        assert caught.value.status_code == 502
        assert caught.value.body["code"] == "upstream_error"
        await keyed.settled()
        relay = keyed.net.relay
        assert relay is not None
        assert (await relay.accounts.me(account_id)).balance_tokens == 10_000


async def test_accounting_failure_is_500_api_error(keyed: Keyed, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    _, key = await keyed.account_with_key("kim", 10_000)

    async def database_down(*args: Any, **kwargs: Any) -> str:
        raise OperationalError("UPDATE accounts ...", {}, Exception("disk I/O error"))

    relay = keyed.net.relay
    assert relay is not None
    monkeypatch.setattr(relay.billing, "reserve", database_down)  # fault injection
    with pytest.raises(openai.InternalServerError) as caught:
        await chat(keyed.sdk(key))
    assert caught.value.status_code == 500
    assert caught.value.body["code"] == "api_error"
    assert "nothing was charged" in caught.value.body["message"]


async def test_request_log_keeps_counts_not_content(keyed: Keyed) -> None:
    from sqlalchemy import select

    from tokenplace.relay.store.accounts_schema import RequestLogRow

    account_id, key = await keyed.account_with_key("lena", 10_000)
    reply = await chat(keyed.sdk(key))
    await keyed.settled()
    relay = keyed.net.relay
    assert relay is not None and reply.usage is not None
    async with relay.store.sessions() as session:
        rows = (await session.scalars(select(RequestLogRow))).all()
    assert [(r.account_id, r.status, r.model) for r in rows] == [(account_id, "completed", "echo")]
    assert (rows[0].prompt_tokens, rows[0].completion_tokens) == (
        reply.usage.prompt_tokens,
        reply.usage.completion_tokens,
    )
    assert all(PROMPT not in str(value) for value in vars(rows[0]).values())


async def admin_cli(keyed: Keyed, *argv: str) -> tuple[int, str, str]:
    """`tokenplace admin --relay … ARGV` in a child process: (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "admin",
        "--relay",
        keyed.net.relay_address,
        *argv,
        cwd=ROOT,
        env={**os.environ, "TOKENPLACE_OPERATOR_TOKEN": OPERATOR},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_admin_cli_creates_grants_and_mints(keyed: Keyed) -> None:
    async def admin(*argv: str) -> dict:
        code, out, err = await admin_cli(keyed, *argv)
        assert code == 0, err
        return json.loads(out)

    account = await admin("create-account", "mona")
    granted = await admin("grant", account["id"], "5000")
    assert granted["balance_tokens"] == 5000
    minted = await admin("mint-key", account["id"], "--name", "cli")
    reply = await chat(keyed.sdk(minted["secret"]))
    assert reply.choices[0].message.content == "echo: count my tokens please"


async def test_admin_cli_says_conflict_for_an_existing_account_name(keyed: Keyed) -> None:
    code, _, _ = await admin_cli(keyed, "create-account", "alice")
    assert code == 0
    code, out, err = await admin_cli(keyed, "create-account", "alice")
    assert code != 0 and out == ""
    assert err.startswith("tokenplace admin: conflict: "), err
    assert "alice" in err and "ACCOUNT_EXISTS" in err
    assert "upstream_error" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
