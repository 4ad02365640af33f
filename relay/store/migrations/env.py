"""Alembic environment for the relay's SQL store (SQLite via aiosqlite, PostgreSQL via asyncpg).

Two ways in:
- relay.store.migrate.upgrade() opens an async engine itself and hands Alembic a
  connection in `config.attributes["connection"]`; migrations run on it, inside the
  caller's transaction, with no logging set up behind the application's back.
- the `alembic` command (developers: alembic.ini at the repo root) connects to
  $TOKENPLACE_RELAY_DATABASE_URL, else the ini's `sqlalchemy.url`.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

import tokenplace.relay.store.accounts_schema  # noqa: F401  (registers its tables on Base.metadata)
from tokenplace.relay.store.sql import Base, create_engine

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = os.environ.get("TOKENPLACE_RELAY_DATABASE_URL") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("set TOKENPLACE_RELAY_DATABASE_URL or sqlalchemy.url")
    return url


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: later revisions rebuild tables in batches.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    run_on(shared_connection)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        run_offline()
    else:
        asyncio.run(run_with_own_engine())
