"""Rate limits, enforced in the relay so they hold across any number of gateways.

Per API key (or per client IP in open mode): requests per minute over a
sliding window; per account (or IP): requests in flight; and one global
requests-per-minute limit in front of the nodes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

import grpc

from tokenplace.relay.errors import RelayError
from tokenplace.v1 import errors_pb2

WINDOW_SECONDS = 60.0


class RateLimited(RelayError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = errors_pb2.ERROR_REASON_RATE_LIMITED

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        # Whole seconds, at least one: what an HTTP Retry-After header can say.
        super().__init__(message, retry_after=max(1, math.ceil(retry_after_seconds)))


class SlidingWindow:
    """At most `limit` events in any WINDOW_SECONDS."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.events: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        """0 when an event may happen now, else seconds until one may."""
        while self.events and self.events[0] <= now - WINDOW_SECONDS:
            self.events.popleft()
        if len(self.events) < self.limit:
            return 0.0
        return self.events[0] + WINDOW_SECONDS - now

    def record(self, now: float) -> None:
        self.events.append(now)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    requests_per_minute: int
    concurrent_requests: int
    global_requests_per_minute: int


@dataclass
class Lease:
    """Holds one in-flight slot of a caller's concurrency limit until released."""

    limits: Limits
    holder: str
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.limits._finish(self.holder)


class Limits:
    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self._windows: dict[str, SlidingWindow] = {}
        self._in_flight: dict[str, int] = {}
        self._global = SlidingWindow(settings.global_requests_per_minute)

    def acquire(self, rate_key: str, concurrency_key: str) -> Lease:
        """Admit one request or raise RateLimited (nothing is counted on refusal)."""
        now = time.monotonic()
        window = self._windows.setdefault(
            rate_key, SlidingWindow(self.settings.requests_per_minute)
        )
        if (wait := window.wait_needed(now)) > 0:
            raise RateLimited(
                f"{self.settings.requests_per_minute} requests per minute per key; "
                f"retry in {math.ceil(wait)} s",
                wait,
            )
        if self._in_flight.get(concurrency_key, 0) >= self.settings.concurrent_requests:
            raise RateLimited(
                f"at most {self.settings.concurrent_requests} concurrent requests per account",
                1.0,
            )
        if (wait := self._global.wait_needed(now)) > 0:
            raise RateLimited("the network's global request limit was reached", wait)
        window.record(now)
        self._global.record(now)
        self._in_flight[concurrency_key] = self._in_flight.get(concurrency_key, 0) + 1
        return Lease(self, concurrency_key)

    def _finish(self, holder: str) -> None:
        remaining = self._in_flight.get(holder, 0) - 1
        if remaining > 0:
            self._in_flight[holder] = remaining
        else:
            self._in_flight.pop(holder, None)

    def prune(self) -> None:
        """Forget windows with no recent events (bounded memory)."""
        now = time.monotonic()
        idle = [k for k, w in self._windows.items() if w.wait_needed(now) == 0 and not w.events]
        for key in idle:
            del self._windows[key]
