"""Transactions for domain code that stay safe and fast with many concurrent writers on SQLite.

SQLite lets one writer in at a time, and two things go wrong under concurrency:

- A deferred transaction that reads and then writes can fail at once with "database
  is locked" (SQLITE_BUSY: its snapshot went stale while it waited); the busy timeout
  does not help there. So every transaction starts with BEGIN IMMEDIATE, taking the
  write lock up front and waiting for it (up to the busy timeout) instead of failing.
  That holds against other processes (an admin command) and other engines too.
- SQLite waits for a lock by sleeping and polling (1, 2, 5 … 100 ms), so a hundred
  waiting transactions turn milliseconds into seconds. Within this process,
  `Sessions` therefore queues transactions on an asyncio.Lock (one per engine) so
  they run back to back and never meet SQLite's lock at all.

Also: WAL mode, so readers in other processes go on while a write is in progress, with
synchronous=NORMAL (in WAL mode that cannot corrupt the database; a power cut may lose
the last transactions, which is the price of not waiting for fsync on every request);
and enforced foreign keys (SQLite's default is off). PostgreSQL needs none of this: its
row locks and conditional UPDATEs do the work, and `Sessions` adds no lock there.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tokenplace.relay.store.sql import SQLStore

BUSY_TIMEOUT_MS = 30_000
_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


class Sessions:
    """Sessions of one store for domain code; on SQLite, one transaction at a time.

    Do not open a transaction while holding another from the same store: on SQLite the
    second would wait for the first forever.
    """

    def __init__(self, store: SQLStore) -> None:
        prepare_engine(store.engine)
        self._factory = store.sessions
        sync_engine = store.engine.sync_engine
        self._lock = (
            _locks.setdefault(sync_engine, asyncio.Lock())
            if sync_engine.dialect.name == "sqlite"
            else None
        )

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction committed on exit (rolled back on an exception)."""
        async with self._turn(), self._factory.begin() as session:
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it did is rolled back on exit."""
        async with self._turn(), self._factory() as session:
            yield session

    def _turn(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._lock if self._lock is not None else contextlib.nullcontext()


def prepare_engine(engine: AsyncEngine) -> AsyncEngine:
    """Install the SQLite set-up described above; other engines pass through. Idempotent.

    It runs at each connection's first transaction rather than on "connect", so it
    also covers connections the pool opened before this was called.
    """
    install_begin_immediate(engine.sync_engine)
    return engine


def install_begin_immediate(sync_engine: Engine) -> None:
    """For a SQLite engine, async or not: the pragmas and BEGIN IMMEDIATE. Idempotent."""
    if sync_engine.dialect.name == "sqlite" and not event.contains(
        sync_engine, "begin", _begin_immediate
    ):
        event.listen(sync_engine, "begin", _begin_immediate)


def _begin_immediate(connection: Connection) -> None:
    pooled = connection.connection
    if not pooled.info.get("tokenplace_sqlite_ready"):
        dbapi_connection = pooled.dbapi_connection
        assert dbapi_connection is not None
        # Stop the driver from opening transactions itself; we emit BEGIN below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()
        pooled.info["tokenplace_sqlite_ready"] = True
    connection.exec_driver_sql("BEGIN IMMEDIATE")
