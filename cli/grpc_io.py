"""gRPC's I/O for tokenplace processes: the epoll poller, not EventEngine's thread pool.

Since grpcio 1.80 the C core hands every socket event from its poller thread to an
EventEngine worker thread, which completes the operation on the completion queue that
grpc.aio's own thread reads before it wakes the event loop. On the echo path that is
about fourteen more thread wake-ups per request across gateway, relay and node, and on
a virtual machine a wake-up is tens of microseconds: turning the EventEngine client and
listener endpoints off (the epoll poller then runs in the completion-queue thread
itself) cuts the network's added latency by 0.25-0.5 ms a request (bench/paired.py).

gRPC reads ``GRPC_EXPERIMENTS`` once, when it is first imported, so this must run
before anything imports grpc; a value the operator set is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

VARIABLE = "GRPC_EXPERIMENTS"
EPOLL_POLLER = "-event_engine_client,-event_engine_listener"
_added_to: list[MutableMapping[str, str]] = []


def prefer_epoll_poller(environ: MutableMapping[str, str] = os.environ) -> None:
    if VARIABLE not in environ:
        environ[VARIABLE] = EPOLL_POLLER
        _added_to.append(environ)


def operator_environment(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """`environ` without what `prefer_epoll_poller` added to it: for a child process
    that must make its own choice, such as a benchmark's network built from another
    commit (bench/paired.py), which must not inherit this checkout's."""
    added = any(seen is environ for seen in _added_to) and environ.get(VARIABLE) == EPOLL_POLLER
    return {k: v for k, v in environ.items() if not (added and k == VARIABLE)}
