"""SlotPool: bounded concurrency per node with a bounded FIFO of waiters."""

from __future__ import annotations

import asyncio

import pytest

from tokenplace.relay.errors import NodeLost, QueueFull
from tokenplace.relay.slots import SlotPool


async def queued(pool: SlotPool, waiting: int) -> None:
    """Let pending acquire() tasks run until `waiting` of them are parked in the queue."""
    for _ in range(100):
        if pool.waiting == waiting:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {waiting} waiters, have {pool.waiting}")


async def cancel(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start_acquire(
    pool: SlotPool, order: list[str] | None = None, name: str = ""
) -> asyncio.Task[None]:
    async def acquire() -> None:
        await pool.acquire()
        if order is not None:
            order.append(name)

    return asyncio.create_task(acquire())


async def test_acquires_up_to_slots_immediately() -> None:
    pool = SlotPool(slots=3, max_waiters=0)
    for _ in range(3):
        await asyncio.wait_for(pool.acquire(), timeout=1)
    assert (pool.active, pool.free, pool.load()) == (3, 0, 1.0)


async def test_extra_acquire_waits_for_release() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    waiter = start_acquire(pool)
    await queued(pool, 1)
    assert not waiter.done()
    assert pool.load() == 2.0
    pool.release()
    await asyncio.wait_for(waiter, timeout=1)
    assert (pool.active, pool.waiting) == (1, 0)


async def test_waiters_are_served_first_in_first_out() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    order: list[str] = []
    tasks: list[asyncio.Task[None]] = []
    for name in ("a", "b", "c"):
        tasks.append(start_acquire(pool, order, name))
        await queued(pool, len(tasks))
    for expected in (["a"], ["a", "b"], ["a", "b", "c"]):
        pool.release()
        await asyncio.wait_for(tasks[len(expected) - 1], timeout=1)
        assert order == expected
    assert pool.active == 1


async def test_new_acquire_does_not_jump_the_queue() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    first = start_acquire(pool)
    await queued(pool, 1)
    pool.release()  # the slot is handed to `first`, not left free
    assert pool.free == 0
    late = start_acquire(pool)
    await asyncio.wait_for(first, timeout=1)
    await queued(pool, 1)
    assert not late.done()
    await cancel(late)


async def test_release_with_no_waiters_frees_a_slot() -> None:
    pool = SlotPool(slots=2, max_waiters=0)
    await pool.acquire()
    await pool.acquire()
    pool.release()
    assert (pool.active, pool.free) == (1, 1)


async def test_queue_full_past_max_waiters() -> None:
    pool = SlotPool(slots=1, max_waiters=2)
    await pool.acquire()
    waiters = [start_acquire(pool), start_acquire(pool)]
    await queued(pool, 2)
    with pytest.raises(QueueFull):
        await pool.acquire()
    await cancel(*waiters)


async def test_zero_waiters_means_no_queueing() -> None:
    pool = SlotPool(slots=1, max_waiters=0)
    await pool.acquire()
    with pytest.raises(QueueFull):
        await pool.acquire()


async def test_close_fails_every_waiter_with_the_error() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    waiters = [start_acquire(pool), start_acquire(pool)]
    await queued(pool, 2)
    lost = NodeLost("node gone")
    pool.close(lost)
    results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 1)
    assert results == [lost, lost]


async def test_closed_pool_refuses_new_acquires() -> None:
    pool = SlotPool(slots=4, max_waiters=5)
    lost = NodeLost("node gone")
    pool.close(lost)
    with pytest.raises(NodeLost) as raised:
        await pool.acquire()
    assert raised.value is lost


async def test_cancelled_waiter_does_not_take_a_slot() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    waiter = start_acquire(pool)
    await queued(pool, 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.waiting == 0
    pool.release()
    assert (pool.active, pool.free) == (0, 1)
    await asyncio.wait_for(pool.acquire(), timeout=1)


async def test_cancelled_waiter_is_skipped_for_the_next_one() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    gone, next_in_line = start_acquire(pool), start_acquire(pool)
    await queued(pool, 2)
    await cancel(gone)
    pool.release()
    await asyncio.wait_for(next_in_line, timeout=1)
    assert pool.active == 1


async def test_cancelled_waiter_frees_its_queue_place() -> None:
    pool = SlotPool(slots=1, max_waiters=1)
    await pool.acquire()
    gone = start_acquire(pool)
    await queued(pool, 1)
    await cancel(gone)
    replacement = start_acquire(pool)
    await queued(pool, 1)
    assert not replacement.done()
    await cancel(replacement)


async def test_slot_handed_over_as_waiter_is_cancelled_is_returned() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    waiter = start_acquire(pool)
    await queued(pool, 1)
    pool.release()  # the slot is handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (pool.active, pool.free) == (0, 1)
    await asyncio.wait_for(pool.acquire(), timeout=1)


async def test_handover_race_passes_slot_to_next_waiter() -> None:
    pool = SlotPool(slots=1, max_waiters=5)
    await pool.acquire()
    unlucky, patient = start_acquire(pool), start_acquire(pool)
    await queued(pool, 2)
    pool.release()
    await cancel(unlucky)
    await asyncio.wait_for(patient, timeout=1)
    assert pool.active == 1
