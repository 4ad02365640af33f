"""Alembic migrations of the relay's SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select

import tokenplace.relay.store.accounts_schema  # noqa: F401  (its tables are part of Base.metadata)
from tests.support.postgres import postgres_cluster  # noqa: F401  (session fixture)
from tokenplace.relay.accounts.keys import Accounts
from tokenplace.relay.store import Base, ModelFeedback, SQLStore, utc_now
from tokenplace.relay.store.migrate import MIGRATIONS_DIR, alembic_config, upgrade, upgrade_engine
from tokenplace.relay.store.sql import create_engine

ALL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'relay.sqlite3'}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    url = await cluster.create_database()
    try:
        yield url
    finally:
        await cluster.drop_database(url)


async def on_connection(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_head_matches_the_models(database_url: str) -> None:
    await upgrade(database_url)

    assert await on_connection(database_url, differences) == []
    assert await on_connection(database_url, table_names) == ALL_TABLES | {"alembic_version"}


async def test_upgrading_again_changes_nothing(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)

    assert await on_connection(database_url, current_revision) == "0002"
    assert await on_connection(database_url, differences) == []


async def test_a_database_from_before_migrations_is_adopted(database_url: str) -> None:
    """create_all made only the community tables; their rows survive the upgrade."""
    baseline = [Base.metadata.tables["contributions"], Base.metadata.tables["model_feedback"]]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all, tables=baseline)
            await connection.execute(
                ModelFeedback.__table__.insert().values(
                    id="f1", model_id="m", rating=5, created_at=utc_now()
                )
            )
        await upgrade_engine(engine)
        async with engine.connect() as connection:
            ratings = (await connection.execute(select(ModelFeedback.rating))).scalars().all()
            assert await connection.run_sync(current_revision) == "0002"
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
    assert ratings == [5]


async def test_unknown_tables_without_a_revision_are_refused(database_url: str) -> None:
    await on_connection(database_url, Base.metadata.create_all)

    with pytest.raises(RuntimeError, match="no alembic_version"):
        await upgrade(database_url)


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    await upgrade(database_url)

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    await on_connection(database_url, downgrade)
    assert await on_connection(database_url, table_names) == {"alembic_version"}

    await upgrade(database_url)
    assert await on_connection(database_url, differences) == []


async def test_relays_starting_together_migrate_once(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one relay per SQLite file; the advisory lock is PostgreSQL's")
    await asyncio.gather(*(upgrade(database_url) for _ in range(3)))

    assert await on_connection(database_url, current_revision) == "0002"


async def test_an_in_memory_store_migrates_through_its_own_engine() -> None:
    """:memory: is a new database per engine, so the relay passes its store's engine."""
    store = SQLStore("sqlite+aiosqlite://")
    try:
        accounts = Accounts(store)  # engine prepared (BEGIN IMMEDIATE) before migrating
        await upgrade_engine(store.engine)
        account = await accounts.create_account("ada")
        assert (await accounts.me(account.id)).balance_tokens == 0
        async with store.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await store.close()


def test_the_migration_template_ships_with_the_package() -> None:
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "__init__.py").is_file()  # so setuptools packages the .py files
