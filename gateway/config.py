"""Gateway settings: one pydantic-settings class, read from TOKENPLACE_GATEWAY_* variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tokenplace.common.paths import default_data_dir


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKENPLACE_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    relay: str = Field(default="127.0.0.1:50051", description="relay HOST:PORT")
    key_path: Path = Field(default_factory=lambda: default_data_dir() / "gateway_key.pem")
    # Upper bound on one generation, end to end, sent to the relay as the gRPC deadline.
    request_timeout_seconds: float = Field(default=300.0, gt=0)
    # Deadline for the relay's quick unary calls (catalog, node selection).
    control_timeout_seconds: float = Field(default=5.0, gt=0)
    # Plaintext mode: tries on distinct nodes when one is lost before answering.
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Release metadata for the landing badge (public; never put a secret here).
    environment: str = "dev"
    release_version: str = "0.1.0"
    release_ref: str | None = None
