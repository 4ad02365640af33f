"""What the relay's clients return: plain dataclasses, one per concept, named as the
messages of `tokenplace.v1` and the relay's own domain types are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tokenplace.e2ee import Envelope

# Inference


@dataclass(frozen=True, slots=True)
class ModelCard:
    id: str
    owned_by: str
    created: int


@dataclass(frozen=True, slots=True)
class ServedModel:
    card: ModelCard
    node_count: int
    free_slots: int


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """A node a sealed request can be addressed to."""

    node_id: str
    public_key: str


@dataclass(frozen=True, slots=True)
class Dispatched:
    node_id: str
    response: Envelope
    prompt_tokens: int
    completion_tokens: int
    # The node the relay would pick next for this model (a hint for the next request).
    next_node: NodeAddress | None


# Relay-blind sealed requests and polling nodes


@dataclass(frozen=True, slots=True)
class SealedState:
    request_id: str
    state: str  # queued, running, completed, cancelled, expired, lost
    reason: str = ""
    response: Envelope | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class PollingRegistration:
    node_id: str
    # Only on a new registration: the credential, sealed to the node's key.
    sealed_credential: Envelope | None
    lease_seconds: int
    poll_wait_seconds: int


@dataclass(frozen=True, slots=True)
class PolledJob:
    job_id: str
    model: str
    client_public_key: str
    request_id: str
    envelope: Envelope
    deadline_unix: float


# Accounts and keys


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    balance_tokens: int
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    prefix: str
    name: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class WhoAmI:
    account_id: str
    key_id: str
    key_prefix: str


# Instances


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    name: str
    endpoint: str | None
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessingUnit:
    id: str
    kind: str
    model: str
    count: int
    memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class Software:
    id: str
    name: str
    version: str


# Community


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
class Leaderboard:
    entries: list[LeaderboardEntry]
    updated: datetime


@dataclass(frozen=True, slots=True)
class ContributionSummary:
    total_submissions: int
    regions: list[str]
    capability_counts: dict[str, int]
    last_submission_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerPool:
    configured_servers: list[str]
    primary: str | None
    secondary: list[str]
    total: int


# Monitoring


@dataclass(frozen=True, slots=True)
class NodeStatus:
    node_id: str
    display_name: str
    transport: str
    peer: str
    models: list[str]
    slots: int
    slots_in_use: int
    queued_jobs: int
    connected_at: datetime | None
    last_seen: datetime | None
    online: bool
    connected: bool
    draining: bool
    jobs_completed: int
    jobs_failed: int
    tokens_generated: int
    inventory: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RelayStatus:
    relay_id: str
    address: str
    version: str
    started_at: datetime | None
    last_seen: datetime | None
    online: bool


@dataclass(frozen=True, slots=True)
class ClusterStats:
    workers_online: int = 0
    workers_total: int = 0
    federated_online: int = 0
    federated_total: int = 0
    slots_total: int = 0
    slots_busy: int = 0
    queued_jobs: int = 0
    models_served: int = 0
    jobs_dispatched: int = 0
    jobs_completed: int = 0
    jobs_failed: int = 0
    tokens_generated: int = 0
    online_window_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class MonitoringEvent:
    """One event of the WatchEvents stream: `kind` is the proto oneof name
    (node_joined, node_left, node_offline, node_online, job_dispatched, job_finished)."""

    kind: str
    time: datetime | None
    node_id: str = ""
    job_id: str = ""
    model: str = ""
    reason: str = ""
    outcome: str = ""
    duration_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
