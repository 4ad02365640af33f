"""Relay settings: one pydantic-settings class, read from TOKENPLACE_RELAY_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tokenplace.common.paths import default_data_dir


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKENPLACE_RELAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    heartbeat_interval_seconds: int = Field(default=10, ge=1)
    # A node not heard from for this long is out of dispatch (LocalAI's 40 s window).
    node_timeout_seconds: float = Field(default=40.0, gt=0)
    register_timeout_seconds: float = Field(default=10.0, gt=0)
    # Jobs waiting for a busy node beyond its running ones; past this, 429.
    max_queue_per_node: int = Field(default=32, ge=0)
    # Used when a gateway's Dispatch call carries no deadline of its own.
    default_job_timeout_seconds: float = Field(default=300.0, gt=0)
    drain_grace_seconds: float = Field(default=5.0, ge=0)
    max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Operator-only RPCs (node removal, contribution summary, key rotation checks)
    # need this token; unset means those actions are unavailable (503 at the gateway).
    operator_token: SecretStr | None = None
    # When set, a node must present this token to register (stream or HTTP); unset: open.
    join_token: SecretStr | None = None
    # Monitoring keeps nodes that left (reported offline) this long, at most this many.
    departed_node_retention_seconds: float = Field(default=3600.0, ge=0)
    max_departed_nodes: int = Field(default=1000, ge=0)
    # SQLAlchemy async URL; a SQLite file by default, e.g. postgresql+asyncpg://... in production.
    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{default_data_dir() / 'relay.sqlite3'}"
    )
    # Operator-edited JSON files: {"data": [...], "metadata": {...}} (or a bare list).
    community_providers_path: Path | None = None
    relay_providers_path: Path | None = None
    # Relay server-node URLs for diagnostics and onboarding, primary first.
    server_pool: list[str] = Field(default_factory=list)
    # Relay-blind requests: how long a sealed answer or a terminal state is kept.
    sealed_retention_seconds: float = Field(default=600.0, gt=0)
    # Polling (HTTP) nodes: lease length and the longest a poll waits.
    polling_lease_seconds: int = Field(default=40, ge=1)
    poll_wait_seconds: int = Field(default=20, ge=0)
    # "open": no key needed, limits per client IP (a local `tokenplace up`).
    # "keys": every inference call needs an API key; limits per key/account; token billing.
    auth_mode: Literal["open", "keys"] = "open"
    # keys mode, Tok0n's defaults.
    key_requests_per_minute: int = Field(default=60, ge=1)
    account_concurrent_requests: int = Field(default=10, ge=1)
    global_requests_per_minute: int = Field(default=55, ge=1)
    # open mode: generous per-IP limits for a private network.
    ip_requests_per_minute: int = Field(default=6000, ge=1)
    ip_concurrent_requests: int = Field(default=64, ge=1)
    # Reserved when a caller sends no estimate (e.g. a sealed request without max_tokens).
    default_reserve_tokens: int = Field(default=1024, ge=1)
    # Housekeeping period: lapsed polling leases, expired sealed answers.
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    # Prometheus scrape endpoint (http://metrics_host:metrics_port/metrics); None = off,
    # 0 = any free port. "off" or "" in the environment also turn it off.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value
