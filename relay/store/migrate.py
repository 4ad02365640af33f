"""Bring the relay's database up to date: Alembic migrations, run from code.

`await upgrade(database_url)` (or `upgrade_engine(engine)`) runs `alembic upgrade head`
from code: the Alembic configuration is built here, pointing at the migrations package,
so no alembic.ini is needed at run time. A database created before migrations existed
(by create_all: only the community tables, no alembic_version) is stamped at
the baseline revision first, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tokenplace.relay.store.sql import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BASELINE_REVISION = "0001"
BASELINE_TABLES = frozenset({"contributions", "model_feedback"})
# pg_advisory_xact_lock key: relays starting together migrate one at a time.
MIGRATION_LOCK_KEY = 0x746F6B656E  # "token"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at `database_url` to `revision` (the newest by default)."""
    engine = create_engine(database_url)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate through an existing engine (the only way for a SQLite :memory: database)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    if _predates_migrations(connection):
        command.stamp(config, BASELINE_REVISION)
    command.upgrade(config, revision)


def _predates_migrations(connection: Connection) -> bool:
    """True for a database that create_all built before there were migrations."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables or not tables:
        return False
    if tables <= BASELINE_TABLES:
        return True
    raise RuntimeError(
        f"the database has tables ({', '.join(sorted(tables))}) but no alembic_version: "
        "was it built by create_all? Run relay.store.migrate.upgrade before anything else."
    )
