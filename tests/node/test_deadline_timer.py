"""The node stops a job's generation at the job's own deadline, whatever the relay does."""

from __future__ import annotations

import asyncio
import threading
import time

from tokenplace.node.agent import _deadline_timer
from tokenplace.v1 import node_pb2


def job_due_in(seconds: float) -> node_pb2.Job:
    job = node_pb2.Job(job_id="j1")
    job.deadline.FromNanoseconds(int((time.time() + seconds) * 1e9))
    return job


async def test_the_job_is_cancelled_once_its_deadline_passes() -> None:
    cancelled = threading.Event()
    timer = _deadline_timer(asyncio.get_running_loop(), job_due_in(0.05), cancelled)
    assert timer is not None and not cancelled.is_set()
    await asyncio.to_thread(cancelled.wait, 5)
    assert cancelled.is_set()


async def test_a_deadline_already_past_cancels_on_the_next_loop_turn() -> None:
    cancelled = threading.Event()
    _deadline_timer(asyncio.get_running_loop(), job_due_in(-1), cancelled)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert cancelled.is_set()


async def test_a_job_without_a_deadline_gets_no_timer() -> None:
    cancelled = threading.Event()
    assert _deadline_timer(asyncio.get_running_loop(), node_pb2.Job(job_id="j1"), cancelled) is None
