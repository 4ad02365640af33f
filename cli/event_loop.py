"""The event loop every tokenplace process runs on: uvloop where it is installed.

On the echo path each request crosses three event loops (gateway, relay, node), each
about eight loop turns a request; uvloop's turns cost less than asyncio's pure-Python
ones, 0.16-0.29 ms of the network's added latency per request on loopback here
(bench/paired.py). uvicorn makes the same choice for its own loop (`loop="auto"`).
Where uvloop is absent (Windows), the standard loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    uvloop = _uvloop()
    return asyncio.run(main) if uvloop is None else uvloop.run(main)


def name() -> str:
    """The loop `run` uses, "uvloop <version>" or "asyncio" (benchmarks print it)."""
    uvloop = _uvloop()
    return "asyncio" if uvloop is None else f"uvloop {uvloop.__version__}"


def _uvloop() -> ModuleType | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop
