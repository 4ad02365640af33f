"""`--metrics-port` for `tokenplace relay` and `tokenplace up`: on by default from the
CLI (the relay library's default is off, so tests and embedders opt in)."""

from __future__ import annotations

import argparse
import os

DEFAULT_METRICS_PORT = 9464
METRICS_PORT_HELP = (
    f"relay Prometheus port, default {DEFAULT_METRICS_PORT}; 'off' disables "
    "(TOKENPLACE_RELAY_METRICS_PORT)"
)


def metrics_port(value: str) -> int | str:
    """argparse type: a port number, or "off"."""
    if value.strip().lower() in ("off", "none", ""):
        return "off"
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number or 'off'") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number")
    return port


def relay_metrics_port(flag: int | str | None) -> int | None:
    """The flag, else the environment, else the CLI default; None means off."""
    if flag is None:
        flag = metrics_port(
            os.environ.get("TOKENPLACE_RELAY_METRICS_PORT", str(DEFAULT_METRICS_PORT))
        )
    return None if flag == "off" else int(flag)
