"""Community data: provider directories, model feedback, contribution offers, server pool.

Provider directories are operator-edited JSON files; feedback and contribution offers
live in the relay's SQL store. Everything here speaks plain Python; servicers convert.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import func, select

from tokenplace.relay.config import RelaySettings
from tokenplace.relay.errors import InvalidArgument, RelayError
from tokenplace.relay.store import Contribution, ModelFeedback, SQLStore, as_utc, utc_now
from tokenplace.relay.store.migrate import upgrade_engine
from tokenplace.v1 import errors_pb2

MAX_FIELD_CHARS = 200
MAX_TEXT_CHARS = 2000
MAX_MODEL_ID_CHARS = 256
MAX_CAPABILITIES = 32
CONTACT_FIELDS = ("email", "matrix", "discord", "website")


class ProviderDirectoryUnavailable(RelayError):
    """The operator's provider file exists but cannot be read or is not a directory."""

    status_code = grpc.StatusCode.INTERNAL
    reason = errors_pb2.ERROR_REASON_PROVIDER_DIRECTORY_UNAVAILABLE


class Directory(enum.Enum):
    COMMUNITY = "community"
    RELAY = "relay"


@dataclass(frozen=True, slots=True)
class ProviderListing:
    data: list[dict[str, Any]]
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    model_id: str
    average_rating: float
    ratings_count: int
    last_feedback_at: datetime


@dataclass(frozen=True, slots=True)
class ContributionSummary:
    total_submissions: int
    regions: list[str]
    capability_counts: dict[str, int]
    last_submission_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerPool:
    configured_servers: list[str]
    primary: str
    secondary: list[str]
    total: int


class Community:
    def __init__(self, settings: RelaySettings, store: SQLStore | None = None) -> None:
        """With `store`, use that (migrated, shared) database; else open one at start()."""
        self.settings = settings
        self._store = store
        self._owns_store = store is None

    async def start(self) -> None:
        """Open the database and create missing tables (only for a store of its own)."""
        if self._store is None:
            store = SQLStore(self.settings.database_url)
            await upgrade_engine(store.engine)
            self._store = store

    async def close(self) -> None:
        if self._store is not None and self._owns_store:
            await self._store.close()
            self._store = None

    @property
    def store(self) -> SQLStore:
        if self._store is None:
            raise RuntimeError("Community.start() has not been awaited")
        return self._store

    # Provider directories

    async def providers(self, directory: Directory) -> ProviderListing:
        path = {
            Directory.COMMUNITY: self.settings.community_providers_path,
            Directory.RELAY: self.settings.relay_providers_path,
        }[directory]
        if path is None:
            return ProviderListing(data=[], metadata=None)
        return await asyncio.to_thread(read_provider_file, path)

    # Model feedback

    async def record_feedback(self, model_id: str, rating: int) -> str:
        model_id = _required_text("model_id", model_id, MAX_MODEL_ID_CHARS)
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidArgument("rating: must be an integer from 1 to 5")
        feedback = ModelFeedback(
            id=str(uuid.uuid4()), model_id=model_id, rating=rating, created_at=utc_now()
        )
        async with self.store.sessions.begin() as session:
            session.add(feedback)
        return feedback.id

    async def leaderboard(self, limit: int | None = None) -> list[LeaderboardEntry]:
        """Models by average rating (2 decimals), then ratings count, then id."""
        if limit is not None and limit < 1:
            raise InvalidArgument("limit: must be a positive integer")
        average = func.round(func.avg(ModelFeedback.rating), 2).label("average_rating")
        count = func.count(ModelFeedback.id).label("ratings_count")
        query = (
            select(ModelFeedback.model_id, average, count, func.max(ModelFeedback.created_at))
            .group_by(ModelFeedback.model_id)
            .order_by(average.desc(), count.desc(), ModelFeedback.model_id)
            .limit(limit)
        )
        async with self.store.sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            LeaderboardEntry(model_id, float(avg), int(n), as_utc(last))
            for model_id, avg, n, last in rows
        ]

    # Contribution offers

    async def submit_contribution(
        self,
        *,
        operator_name: str,
        region: str,
        availability: str,
        capabilities: Sequence[str],
        contact: Mapping[str, str | None],
        hardware: str | None = None,
        notes: str | None = None,
    ) -> str:
        """Validate and queue an offer; returns its submission id."""
        offer = Contribution(
            id=str(uuid.uuid4()),
            operator_name=_required_text("operator_name", operator_name, MAX_FIELD_CHARS),
            region=_required_text("region", region, MAX_FIELD_CHARS),
            availability=_required_text("availability", availability, MAX_FIELD_CHARS),
            capabilities=_capabilities(capabilities),
            contact=_contact(contact),
            hardware=_optional_text("hardware", hardware),
            notes=_optional_text("notes", notes),
            submitted_at=utc_now(),
        )
        async with self.store.sessions.begin() as session:
            session.add(offer)
        return offer.id

    async def contribution_summary(self) -> ContributionSummary:
        async with self.store.sessions() as session:
            total, last = (
                await session.execute(
                    select(func.count(Contribution.id), func.max(Contribution.submitted_at))
                )
            ).one()
            regions = await session.scalars(
                select(Contribution.region).distinct().order_by(Contribution.region)
            )
            # A JSON column: counting inside it is not portable SQL, so count here.
            capability_lists = await session.scalars(select(Contribution.capabilities))
            counts = Counter(item for items in capability_lists for item in items)
        return ContributionSummary(
            total_submissions=int(total),
            regions=list(regions),
            capability_counts=dict(sorted(counts.items())),
            last_submission_at=as_utc(last) if last is not None else None,
        )

    # Server pool

    def server_pool(self) -> ServerPool:
        servers = list(self.settings.server_pool)
        return ServerPool(
            configured_servers=servers,
            primary=servers[0] if servers else "",
            secondary=servers[1:],
            total=len(servers),
        )


def read_provider_file(path: Path) -> ProviderListing:
    """Parse a provider directory: `{"data": [...], "metadata": {...}}` or a bare list.

    A file that does not exist yet is an empty directory; one that exists but cannot
    be used is an operator mistake, reported as ProviderDirectoryUnavailable.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ProviderListing(data=[], metadata=None)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ProviderDirectoryUnavailable(
            f"the provider directory {path.name} cannot be read: {type(error).__name__}"
        ) from error
    if isinstance(document, dict):
        data, metadata = document.get("data"), document.get("metadata")
    else:
        data, metadata = document, None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ProviderDirectoryUnavailable(
            f"the provider directory {path.name} must hold a list of objects under 'data'"
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise ProviderDirectoryUnavailable(
            f"the provider directory {path.name} has 'metadata' that is not an object"
        )
    return ProviderListing(data=data, metadata=metadata)


def _required_text(field: str, value: object, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{field}: must be a non-empty string")
    value = value.strip()
    if len(value) > max_chars:
        raise InvalidArgument(f"{field}: must be at most {max_chars} characters")
    return value


def _optional_text(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return _required_text(field, value, MAX_TEXT_CHARS)


def _capabilities(values: Sequence[str]) -> list[str]:
    if isinstance(values, str) or not values:
        raise InvalidArgument("capabilities: must be a non-empty list of strings")
    if len(values) > MAX_CAPABILITIES:
        raise InvalidArgument(f"capabilities: at most {MAX_CAPABILITIES} items")
    cleaned = [
        _required_text(f"capabilities[{index}]", value, MAX_FIELD_CHARS)
        for index, value in enumerate(values)
    ]
    return list(dict.fromkeys(cleaned))  # one count per offer, first spelling wins


def _contact(contact: Mapping[str, str | None]) -> dict[str, str]:
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise InvalidArgument(f"contact: unknown field {sorted(unknown)[0]!r}")
    cleaned = {
        key: _required_text(f"contact.{key}", value, MAX_FIELD_CHARS)
        for key, value in contact.items()
        if value is not None and (not isinstance(value, str) or value.strip())
    }
    if not cleaned:
        raise InvalidArgument(f"contact: give at least one of {', '.join(CONTACT_FIELDS)}")
    return cleaned
