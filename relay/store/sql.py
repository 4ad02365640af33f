"""The relay's SQL store: SQLAlchemy 2 async engine, sessions and declarative tables.

SQLite (aiosqlite, the default) and PostgreSQL (asyncpg) are both supported, so the
models use only portable column types. Constraint names follow a fixed naming
convention so that Alembic can adopt these tables without renaming anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, MetaData, String
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Contribution(Base):
    """A queued offer of community compute, as submitted."""

    __tablename__ = "contributions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(200))
    availability: Mapped[str] = mapped_column(String(200))
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    contact: Mapped[dict[str, str]] = mapped_column(JSON)
    hardware: Mapped[str | None] = mapped_column(String(2000))
    notes: Mapped[str | None] = mapped_column(String(2000))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelFeedback(Base):
    """One rating of one model."""

    __tablename__ = "model_feedback"
    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(256), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime. SQLite hands back naive values (stored as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SQLStore:
    """Owns the engine and the session factory for one database URL."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    async def close(self) -> None:
        await self.engine.dispose()


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine; for a SQLite file, its directory is created first."""
    url = make_url(database_url)
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            # Every new connection to :memory: is a new, empty database: share one.
            options["poolclass"] = StaticPool
        else:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        options["pool_pre_ping"] = True
    return create_async_engine(url, **options)
