"""Relay settings: one pydantic-settings class, read from TOKENPLACE_RELAY_* variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
