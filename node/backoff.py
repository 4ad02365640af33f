"""Exponential backoff with full jitter (AWS architecture blog's variant)."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base_seconds: float, max_seconds: float) -> None:
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2**self.attempt)
        if ceiling < self.max_seconds:
            self.attempt += 1  # stop growing at the cap: 2**1024 overflows a float
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
