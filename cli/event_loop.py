"""The event loop every tokenplace process runs on: uvloop where it is installed.

On the echo path each request crosses three event loops (gateway, relay, node), each
about eight loop turns a request; uvloop's turns cost less than asyncio's pure-Python
ones, about 0.2 ms of the network's added latency per request on loopback here
(bench/network_overhead.py). uvicorn makes the same choice for its own loop
(`loop="auto"`). Where uvloop is absent (Windows), the standard loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def name() -> str:
    """The loop `run` uses, "uvloop <version>" or "asyncio" (benchmarks print it)."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    return f"uvloop {uvloop.__version__}"
