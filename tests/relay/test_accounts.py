"""Accounts, API keys, token billing, request logs and instances, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tokenplace.relay.accounts.billing import Billing
from tokenplace.relay.accounts.keys import (
    KEY_PATTERN,
    AccountExists,
    AccountNotFound,
    Accounts,
    ApiKeyNotFound,
    InsufficientTokens,
    InvalidApiKey,
    ReservationNotFound,
)
from tokenplace.relay.errors import InvalidArgument
from tokenplace.relay.instances import InstanceNotFound, Instances, InvalidInstanceToken
from tokenplace.relay.inventory import (
    Inventory,
    ProcessingUnitNotFound,
    ProcessingUnitSpec,
    SoftwareNotFound,
    SoftwareSpec,
)
from tokenplace.relay.store import SQLStore
from tokenplace.relay.store.accounts_schema import (
    AccountRow,
    ApiKeyRow,
    LedgerRow,
    ProcessingUnitRow,
    RequestLogRow,
    SoftwareRow,
)
from tokenplace.relay.store.migrate import upgrade
from tokenplace.v1 import errors_pb2


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database migrated to head: a WAL-mode file on SQLite, a new database on PG."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'relay.sqlite3'}"
        await upgrade(url)
        yield url
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = await cluster.create_database()
    try:
        await upgrade(url)
        yield url
    finally:
        await cluster.drop_database(url)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SQLStore]:
    sql = SQLStore(database_url)
    try:
        yield sql
    finally:
        await sql.close()


@pytest.fixture
def accounts(store: SQLStore) -> Accounts:
    return Accounts(store)


@pytest.fixture
def billing(store: SQLStore) -> Billing:
    return Billing(store)


@pytest.fixture
def instances(store: SQLStore) -> Instances:
    return Instances(store)


@pytest.fixture
def inventory(store: SQLStore) -> Inventory:
    return Inventory(store)


async def funded(accounts: Accounts, billing: Billing, name: str, tokens: int) -> str:
    account = await accounts.create_account(name)
    await billing.grant(account.id, tokens)
    return account.id


async def ledger_sum(store: SQLStore, account_id: str) -> int:
    async with store.sessions() as session:
        query = select(func.coalesce(func.sum(LedgerRow.tokens), 0))
        return int(await session.scalar(query.where(LedgerRow.account_id == account_id)))


# Accounts


async def test_a_new_account_has_no_tokens_and_a_unique_name(accounts: Accounts) -> None:
    account = await accounts.create_account("  ada  ")

    assert (account.name, account.balance_tokens) == ("ada", 0)
    assert await accounts.me(account.id) == account
    assert await accounts.account_named("ada") == account
    with pytest.raises(AccountExists):
        await accounts.create_account("ada")
    with pytest.raises(InvalidArgument):
        await accounts.create_account("   ")
    with pytest.raises(AccountNotFound):
        await accounts.me("no-such-account")


# API keys


async def test_a_minted_key_is_shown_once_and_stored_only_as_a_hash(
    accounts: Accounts, store: SQLStore
) -> None:
    account = await accounts.create_account("ada")

    key, secret = await accounts.mint_key(account.id, "laptop")

    assert KEY_PATTERN.fullmatch(secret)
    assert secret.startswith(f"tp_live_{key.prefix}_")
    assert 8 <= len(key.prefix) <= 12 and len(secret.rsplit("_", 1)[1]) >= 32
    listed = await accounts.list_keys(account.id)
    assert listed == [key]
    assert secret.rsplit("_", 1)[1] not in repr(listed)
    assert not {"secret", "secret_hash"} & set(type(key).__dataclass_fields__)
    async with store.sessions() as session:
        row = await session.get(ApiKeyRow, key.id)
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in vars(row).values())


async def test_a_key_authenticates_to_its_account(accounts: Accounts) -> None:
    account = await accounts.create_account("ada")
    key, secret = await accounts.mint_key(account.id, "laptop")

    found_account, found_key = await accounts.authenticate(secret)

    assert found_account.id == account.id
    assert found_key.id == key.id
    assert found_key.last_used_at is not None
    assert (await accounts.list_keys(account.id))[0].last_used_at is not None


async def test_a_revoked_key_fails_even_when_it_was_cached(accounts: Accounts) -> None:
    account = await accounts.create_account("ada")
    key, secret = await accounts.mint_key(account.id)
    await accounts.authenticate(secret)  # now in the cache

    revoked = await accounts.revoke_key(account.id, key.id)

    assert revoked.revoked_at is not None
    with pytest.raises(InvalidApiKey) as raised:
        await accounts.authenticate(secret)
    assert raised.value.reason == errors_pb2.ERROR_REASON_INVALID_API_KEY
    # A second relay (its own cache) sees the revocation in the database.
    assert (await accounts.revoke_key(account.id, key.id)).revoked_at == revoked.revoked_at


async def test_the_right_prefix_with_a_wrong_secret_fails(accounts: Accounts) -> None:
    account = await accounts.create_account("ada")
    _, secret = await accounts.mint_key(account.id)
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    with pytest.raises(InvalidApiKey):
        await accounts.authenticate(forged)
    await accounts.authenticate(secret)  # and a cached good key does not vouch for it
    with pytest.raises(InvalidApiKey):
        await accounts.authenticate(forged)


MALFORMED_KEYS = [
    "",
    "tp_live_",
    "Bearer tp_live_x",
    "tp_live_abc_def",
    "tp_test_AAAAAAAAAAAA_" + "A" * 40,
    "tp_live_AAAAAAAAAAAA_" + "A" * 39,
    "tp_live_AAAAAAAAAAAA_" + "A" * 40 + "\n",
    "tp_live_AAAA-AAAAAAA_" + "A" * 40,
    "tp_live_AAAAAAAAAAAA_" + "\u00e9" * 40,
    "x" * 100_000,
    None,
    42,
]


async def test_malformed_keys_fail_cleanly(accounts: Accounts) -> None:
    for bad in MALFORMED_KEYS:
        with pytest.raises(InvalidApiKey):
            await accounts.authenticate(bad)  # type: ignore[arg-type]


async def test_an_unknown_well_formed_key_fails(accounts: Accounts) -> None:
    with pytest.raises(InvalidApiKey):
        await accounts.authenticate("tp_live_AAAAAAAAAAAA_" + "A" * 40)


async def test_keys_are_scoped_to_their_account(accounts: Accounts) -> None:
    ada = await accounts.create_account("ada")
    bob = await accounts.create_account("bob")
    key, _ = await accounts.mint_key(ada.id)

    assert await accounts.list_keys(bob.id) == []
    with pytest.raises(ApiKeyNotFound):
        await accounts.revoke_key(bob.id, key.id)
    with pytest.raises(ApiKeyNotFound):
        await accounts.revoke_key(ada.id, "no-such-key")
    with pytest.raises(AccountNotFound):
        await accounts.mint_key("no-such-account")


async def test_a_cached_authentication_takes_well_under_a_millisecond(
    accounts: Accounts,
) -> None:
    account = await accounts.create_account("ada")
    _, secret = await accounts.mint_key(account.id)
    await accounts.authenticate(secret)

    rounds = 1000
    started = time.perf_counter()
    for _ in range(rounds):
        await accounts.authenticate(secret)
    assert (time.perf_counter() - started) / rounds < 0.0005


# Billing


async def test_grants_and_earnings_are_ledgered(
    accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    account_id = await funded(accounts, billing, "ada", 500)

    assert await billing.earn(account_id, 25, request_id="r1") == 525
    entries = await billing.ledger(account_id)
    assert [(e.kind, e.tokens, e.balance_after) for e in entries] == [
        ("grant", 500, 500),
        ("earn", 25, 525),
    ]
    assert entries[1].request_id == "r1"
    assert (
        (await accounts.me(account_id)).balance_tokens == 525 == await ledger_sum(store, account_id)
    )
    with pytest.raises(AccountNotFound):
        await billing.grant("no-such-account", 1)


async def test_settle_charges_the_usage_and_releases_the_rest(
    accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    account_id = await funded(accounts, billing, "ada", 1000)

    reservation = await billing.reserve(account_id, 300, request_id="r1")
    assert (await accounts.me(account_id)).balance_tokens == 700
    settlement = await billing.settle(reservation, used_tokens=120)

    assert (settlement.charged_tokens, settlement.reserved_tokens) == (120, 300)
    assert settlement.changed and settlement.status == "settled"
    assert (await accounts.me(account_id)).balance_tokens == 880
    entries = await billing.ledger(account_id)
    assert [(e.kind, e.tokens, e.balance_after) for e in entries] == [
        ("grant", 1000, 1000),
        ("reserve", -300, 700),
        ("release", 300, 1000),
        ("charge", -120, 880),
    ]
    assert {e.reservation_id for e in entries[1:]} == {reservation}
    assert await ledger_sum(store, account_id) == 880


async def test_usage_beyond_the_reservation_is_not_charged(
    accounts: Accounts, billing: Billing
) -> None:
    account_id = await funded(accounts, billing, "ada", 1000)
    reservation = await billing.reserve(account_id, 100)

    settlement = await billing.settle(reservation, used_tokens=5000)

    assert settlement.charged_tokens == 100
    assert (await accounts.me(account_id)).balance_tokens == 900


async def test_settling_twice_is_a_no_op(accounts: Accounts, billing: Billing) -> None:
    account_id = await funded(accounts, billing, "ada", 1000)
    reservation = await billing.reserve(account_id, 300)
    first = await billing.settle(reservation, used_tokens=100)
    entries = len(await billing.ledger(account_id))

    again = await billing.settle(reservation, used_tokens=300)
    release = await billing.release(reservation)

    assert not again.changed and not release.changed
    assert again.charged_tokens == release.charged_tokens == first.charged_tokens == 100
    assert again.status == release.status == "settled"
    assert (await accounts.me(account_id)).balance_tokens == 900
    assert len(await billing.ledger(account_id)) == entries


async def test_concurrent_settles_close_a_reservation_once(
    accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    account_id = await funded(accounts, billing, "ada", 1000)
    reservation = await billing.reserve(account_id, 300)

    results = await asyncio.gather(
        billing.settle(reservation, 100),
        billing.settle(reservation, 200),
        billing.release(reservation),
    )

    assert sum(result.changed for result in results) == 1
    balance = (await accounts.me(account_id)).balance_tokens
    assert balance == 1000 - next(r for r in results if r.changed).charged_tokens
    assert await ledger_sum(store, account_id) == balance


async def test_release_refunds_everything(
    accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    account_id = await funded(accounts, billing, "ada", 1000)
    reservation = await billing.reserve(account_id, 400, request_id="r1")

    released = await billing.release(reservation)

    assert (released.status, released.charged_tokens, released.changed) == ("released", 0, True)
    assert (await accounts.me(account_id)).balance_tokens == 1000
    assert [e.kind for e in await billing.ledger(account_id)] == ["grant", "reserve", "release"]
    assert await ledger_sum(store, account_id) == 1000
    assert not (await billing.settle(reservation, 400)).changed


async def test_a_reservation_the_balance_cannot_cover_is_refused(
    accounts: Accounts, billing: Billing
) -> None:
    account_id = await funded(accounts, billing, "ada", 99)

    with pytest.raises(InsufficientTokens) as raised:
        await billing.reserve(account_id, 100)

    assert raised.value.reason == errors_pb2.ERROR_REASON_INSUFFICIENT_TOKENS
    assert (await accounts.me(account_id)).balance_tokens == 99
    assert [e.kind for e in await billing.ledger(account_id)] == ["grant"]
    await billing.reserve(account_id, 99)  # exactly the balance is fine
    assert (await accounts.me(account_id)).balance_tokens == 0


async def test_unknown_accounts_and_reservations(billing: Billing) -> None:
    with pytest.raises(AccountNotFound):
        await billing.reserve("no-such-account", 1)
    with pytest.raises(ReservationNotFound):
        await billing.settle("no-such-reservation", 1)
    with pytest.raises(ReservationNotFound):
        await billing.release("no-such-reservation")


async def test_token_amounts_are_validated(accounts: Accounts, billing: Billing) -> None:
    account_id = await funded(accounts, billing, "ada", 100)

    for tokens in (0, -5, 1.5, True, "10", 10**16):
        with pytest.raises(InvalidArgument):
            await billing.reserve(account_id, tokens)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            await billing.grant(account_id, tokens)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        await billing.reserve(account_id, 10, request_id="r" * 129)  # longer than its column
    reservation = await billing.reserve(account_id, 10, request_id="r" * 128)
    with pytest.raises(InvalidArgument):
        await billing.settle(reservation, -1)
    assert (await accounts.me(account_id)).balance_tokens == 90


async def test_100_concurrent_requests_with_credit_for_10(
    database_url: str, accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    """Exactly the affordable requests run, the rest are refused, the ledger balances.

    Two Billing objects on two engines (two connection pools) stand for two relays,
    or gateways' requests arriving through different connections.
    """
    account_id = await funded(accounts, billing, "busy", 1000)
    other = SQLStore(database_url)
    relays = [billing, Billing(other)]
    all_tried = asyncio.Barrier(100)

    async def one_request(index: int) -> int | None:
        relay = relays[index % 2]
        try:
            reservation: str | None = await relay.reserve(account_id, 100, f"req-{index}")
        except InsufficientTokens:
            reservation = None
        await all_tried.wait()  # no refund before every request has tried to reserve
        if reservation is None:
            return None
        return (await relay.settle(reservation, used_tokens=(index * 37) % 101)).charged_tokens

    try:
        charged = await asyncio.gather(*(one_request(i) for i in range(100)))
    finally:
        await other.close()

    ran = [tokens for tokens in charged if tokens is not None]
    assert len(ran) == 10 and charged.count(None) == 90
    balance = (await accounts.me(account_id)).balance_tokens
    assert balance == 1000 - sum(ran)
    assert await ledger_sum(store, account_id) == balance
    entries = await billing.ledger(account_id)
    assert all(entry.balance_after >= 0 for entry in entries)
    kinds = [entry.kind for entry in entries]
    assert (kinds.count("reserve"), kinds.count("release"), kinds.count("charge")) == (10, 10, 10)
    assert -sum(e.tokens for e in entries if e.kind == "charge") == sum(ran)


async def test_request_logs_hold_metadata_and_counts_only(
    accounts: Accounts, billing: Billing, store: SQLStore
) -> None:
    account = await accounts.create_account("ada")
    key, _ = await accounts.mint_key(account.id)

    await billing.log_request(
        account_id=account.id,
        api_key_id=key.id,
        request_id="r1",
        model="llama",
        node_id="node-1",
        status="completed",
        prompt_tokens=12,
        completion_tokens=34,
        latency_ms=56,
    )

    columns = {column.name for column in inspect(RequestLogRow).columns}
    assert columns == {
        "id", "account_id", "api_key_id", "request_id", "model", "node_id", "status",
        "prompt_tokens", "completion_tokens", "latency_ms", "created_at",
    }  # fmt: skip
    async with store.sessions() as session:
        row = (await session.scalars(select(RequestLogRow))).one()
    assert (row.model, row.status, row.prompt_tokens, row.completion_tokens) == (
        "llama", "completed", 12, 34,
    )  # fmt: skip
    with pytest.raises(InvalidArgument):
        await billing.log_request(model="llama", status="ok", prompt_tokens=-1)


# Instances and their inventory


async def test_instances_are_scoped_to_their_owner(
    accounts: Accounts, instances: Instances
) -> None:
    ada = await accounts.create_account("ada")
    bob = await accounts.create_account("bob")
    created, token = await instances.create_instance(ada.id, "rack-1", "https://rack.example")

    assert created.status == "pending" and token.startswith("tp_inst_")
    assert await instances.get_instance(ada.id, created.id) == created
    assert await instances.list_instances(ada.id) == [created]
    assert await instances.list_instances(bob.id) == []
    for attempt in (
        instances.get_instance(bob.id, created.id),
        instances.update_instance(bob.id, created.id, name="mine now"),
        instances.delete_instance(bob.id, created.id),
        instances.rotate_token(bob.id, created.id),
    ):
        with pytest.raises(InstanceNotFound):
            await attempt
    assert (await instances.get_instance(ada.id, created.id)).name == "rack-1"
    with pytest.raises(AccountNotFound):
        await instances.create_instance("no-such-account", "x")


async def test_an_update_changes_only_the_fields_given(
    accounts: Accounts, instances: Instances
) -> None:
    ada = await accounts.create_account("ada")
    created, _ = await instances.create_instance(ada.id, "rack-1", "https://rack.example")

    renamed = await instances.update_instance(ada.id, created.id, name="rack-2")
    cleared = await instances.update_instance(ada.id, created.id, endpoint=None)

    assert (renamed.name, renamed.endpoint) == ("rack-2", "https://rack.example")
    assert (cleared.name, cleared.endpoint) == ("rack-2", None)
    assert cleared.updated_at >= created.updated_at
    for bad in ({"status": "on fire"}, {"endpoint": "ftp://x"}, {"name": ""}):
        with pytest.raises(InvalidArgument):
            await instances.update_instance(ada.id, created.id, **bad)  # type: ignore[arg-type]


async def test_a_node_proves_its_instance_with_the_token(
    accounts: Accounts, instances: Instances
) -> None:
    ada = await accounts.create_account("ada")
    created, token = await instances.create_instance(ada.id, "rack-1")

    assert (await instances.instance_for_token(token)).id == created.id
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "", "tp_inst_x_y", "tp_live_" + token[8:], None):
        with pytest.raises(InvalidInstanceToken):
            await instances.instance_for_token(bad)  # type: ignore[arg-type]

    new_token = await instances.rotate_token(ada.id, created.id)
    with pytest.raises(InvalidInstanceToken):
        await instances.instance_for_token(token)
    await instances.set_status(created.id, "online")
    assert (await instances.instance_for_token(new_token)).status == "online"
    await instances.update_instance(ada.id, created.id, status="disabled")
    with pytest.raises(InvalidInstanceToken):
        await instances.instance_for_token(new_token)


async def test_inventory_items_are_scoped_to_the_owners_instance(
    accounts: Accounts, instances: Instances, inventory: Inventory
) -> None:
    ada = await accounts.create_account("ada")
    bob = await accounts.create_account("bob")
    rack, _ = await instances.create_instance(ada.id, "rack-1")
    other_rack, _ = await instances.create_instance(ada.id, "rack-2")
    gpu = await inventory.add_processing_unit(
        ada.id, rack.id, ProcessingUnitSpec("gpu", "RTX 4090", 2, 24 * 2**30)
    )
    engine = await inventory.add_software(ada.id, rack.id, SoftwareSpec("llama.cpp", "b4000"))

    assert await inventory.list_processing_units(ada.id, rack.id) == [gpu]
    assert await inventory.list_software(ada.id, rack.id) == [engine]
    updated = await inventory.update_processing_unit(ada.id, rack.id, gpu.id, count=4)
    assert (updated.count, updated.model) == (4, "RTX 4090")
    renamed = await inventory.update_software(ada.id, rack.id, engine.id, version="b5000")
    assert (renamed.name, renamed.version) == ("llama.cpp", "b5000")

    with pytest.raises(InstanceNotFound):
        await inventory.list_processing_units(bob.id, rack.id)
    with pytest.raises(InstanceNotFound):
        await inventory.add_software(bob.id, rack.id, SoftwareSpec("x", "1"))
    with pytest.raises(InstanceNotFound):
        await inventory.update_processing_unit(bob.id, rack.id, gpu.id, count=1)
    with pytest.raises(ProcessingUnitNotFound):
        await inventory.delete_processing_unit(ada.id, other_rack.id, gpu.id)
    with pytest.raises(SoftwareNotFound):
        await inventory.update_software(ada.id, other_rack.id, engine.id, version="1")
    with pytest.raises(InvalidArgument):
        await inventory.update_processing_unit(ada.id, rack.id, gpu.id, kind="toaster")
    with pytest.raises(InvalidArgument):
        await inventory.update_processing_unit(ada.id, rack.id, gpu.id, id="mine")

    await inventory.delete_processing_unit(ada.id, rack.id, gpu.id)
    await inventory.delete_software(ada.id, rack.id, engine.id)
    assert await inventory.list_processing_units(ada.id, rack.id) == []
    assert await inventory.list_software(ada.id, rack.id) == []


async def test_a_node_replaces_its_whole_inventory(
    accounts: Accounts, instances: Instances, inventory: Inventory, store: SQLStore
) -> None:
    ada = await accounts.create_account("ada")
    rack, token = await instances.create_instance(ada.id, "rack-1")
    await inventory.add_processing_unit(ada.id, rack.id, ProcessingUnitSpec("cpu", "old"))
    node_instance = await instances.instance_for_token(token)

    items = await inventory.replace_inventory(
        node_instance.id,
        [ProcessingUnitSpec("gpu", "A100", 8, 80 * 2**30), ProcessingUnitSpec("cpu", "EPYC")],
        [SoftwareSpec("tokenplace-node", "0.1.0")],
    )

    listed = await inventory.list_processing_units(ada.id, rack.id)
    assert sorted(listed, key=lambda u: u.model) == sorted(
        items.processing_units, key=lambda u: u.model
    )
    assert [(u.model, u.count) for u in sorted(listed, key=lambda u: u.model)] == [
        ("A100", 8),
        ("EPYC", 1),
    ]
    assert await inventory.list_software(ada.id, rack.id) == items.software
    with pytest.raises(InvalidArgument):
        await inventory.replace_inventory(rack.id, [ProcessingUnitSpec("gpu", "x")] * 65, [])
    with pytest.raises(InvalidArgument):
        await inventory.replace_inventory(rack.id, [ProcessingUnitSpec("gpu", "x", 0)], [])
    with pytest.raises(InstanceNotFound):
        await inventory.replace_inventory("no-such-instance", [], [])
    assert len(await inventory.list_processing_units(ada.id, rack.id)) == 2  # all or nothing

    await instances.delete_instance(ada.id, rack.id)
    async with store.sessions() as session:
        for table in (ProcessingUnitRow, SoftwareRow):
            assert await session.scalar(select(func.count()).select_from(table)) == 0
        assert await session.scalar(select(func.count()).select_from(AccountRow)) == 1


async def test_names_with_nul_are_refused_before_they_reach_the_database(tmp_path) -> None:
    """PostgreSQL text cannot hold NUL: it must be a 400, not a driver error (500)."""
    from tokenplace.relay.errors import InvalidArgument
    from tokenplace.relay.store.migrate import upgrade_engine
    from tokenplace.relay.store.sql import SQLStore

    store = SQLStore(f"sqlite+aiosqlite:///{tmp_path / 'nul.sqlite3'}")
    await upgrade_engine(store.engine)
    try:
        with pytest.raises(InvalidArgument, match="NUL"):
            await Accounts(store).create_account("evil\x00name")
    finally:
        await store.close()
