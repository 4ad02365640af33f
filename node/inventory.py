"""What a node tells the relay about its machine (no secrets, no content)."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Any

AGENT_VERSION = "0.1.0"


def machine_inventory(engine_name: str, engine_version: str) -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "memory_bytes": _memory_bytes(),
        "engine": engine_name,
        "engine_version": engine_version,
        "agent_version": AGENT_VERSION,
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
