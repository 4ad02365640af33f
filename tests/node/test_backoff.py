"""Reconnect backoff: exponential growth, bounded, jittered within [ceiling/2, ceiling]."""

from __future__ import annotations

import random

import pytest

from tokenplace.node.backoff import Backoff


@pytest.fixture
def upper_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the jitter pick the top of its range, exposing the ceiling."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)


@pytest.fixture
def lower_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: low)


def delays(backoff: Backoff, count: int) -> list[float]:
    return [backoff.next_delay() for _ in range(count)]


@pytest.mark.usefixtures("upper_bound")
def test_ceiling_doubles_from_base_until_max() -> None:
    assert delays(Backoff(0.5, 5.0), 7) == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


@pytest.mark.usefixtures("lower_bound")
def test_floor_is_half_the_ceiling() -> None:
    assert delays(Backoff(1.0, 6.0), 5) == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.usefixtures("upper_bound")
def test_reset_starts_over_from_base() -> None:
    backoff = Backoff(0.5, 30.0)
    delays(backoff, 4)
    backoff.reset()
    assert delays(backoff, 2) == [0.5, 1.0]


def test_real_jitter_stays_within_half_ceiling_and_ceiling() -> None:
    backoff = Backoff(0.25, 4.0)
    for attempt in range(12):
        ceiling = min(4.0, 0.25 * 2**attempt)
        assert ceiling / 2 <= backoff.next_delay() <= ceiling


def test_real_jitter_varies() -> None:
    backoff = Backoff(10.0, 10.0)
    assert len(set(delays(backoff, 10))) > 1


def test_long_outage_keeps_delays_bounded() -> None:
    """A node retrying through a ~5 h relay outage must not crash its reconnect loop."""
    backoff = Backoff(0.5, 30.0)
    assert all(15.0 <= d <= 30.0 for d in delays(backoff, 1100)[10:])
