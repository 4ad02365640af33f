"""Scrape and read Prometheus text exposition in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Samples:
    """Parsed samples; `value(name, **labels)` sums those whose labels include `labels`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(url)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return Samples(response.text)


async def eventually(check: Callable[[], Awaitable[bool]], attempts: int = 500) -> None:
    """Re-check every 10 ms, up to `attempts` times: for values with no event to await,
    such as a stream's counters, written just after the handler's last await."""
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not true after {attempts} checks")
