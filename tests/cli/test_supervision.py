"""The parts `tokenplace up` supervises with: the readiness pipe, the lifeline, the
stop request, and the bounded stop of children that will not stop by themselves."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import pytest

from tokenplace.cli import children as children_module
from tokenplace.cli.children import ChildFailed, Children
from tokenplace.cli.lifeline import Lifeline
from tokenplace.cli.readiness import ReadyPipe
from tokenplace.cli.stop import Stopped, StopRequest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pipes passed by fd number")

# A child that announces itself ready, then ignores SIGTERM: only SIGKILL ends it.
STUBBORN = """
import os, signal, sys, threading
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = int(sys.argv[sys.argv.index("--ready-fd") + 1])
os.write(fd, b'{"ok": true}\\n')
os.close(fd)
threading.Event().wait()
"""
# A child that ends, with code 3, before it is ready.
FAILING = "import sys; sys.exit(3)"
# A child that stops once its lifeline ends, as tokenplace's processes do.
LIFELINE_WATCHER = """
import asyncio, sys
from tokenplace.cli.lifeline import watch_lifeline
async def main():
    ended = asyncio.Event()
    watch_lifeline(int(sys.argv[1]), ended.set)
    print("watching", flush=True)
    await ended.wait()
asyncio.run(main())
"""


async def test_the_ready_message_crosses_the_pipe() -> None:
    pipe = ReadyPipe()
    announce = (
        "import sys; from tokenplace.cli.readiness import announce_ready; "
        "announce_ready(int(sys.argv[1]), port=1234, model='echo')"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", announce, str(pipe.child_fd), pass_fds=(pipe.child_fd,)
    )
    pipe.child_spawned()
    async with asyncio.timeout(30):
        assert await pipe.message() == {"port": 1234, "model": "echo"}
        assert await process.wait() == 0


async def test_a_child_ending_unready_closes_the_pipe_empty() -> None:
    pipe = ReadyPipe()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FAILING, pass_fds=(pipe.child_fd,)
    )
    pipe.child_spawned()
    async with asyncio.timeout(30):
        assert await pipe.message() is None
        assert await process.wait() == 3


async def test_a_child_sees_its_lifeline_end_however_the_supervisor_ends() -> None:
    lifeline = Lifeline()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LIFELINE_WATCHER,
        str(lifeline.child_fd),
        pass_fds=(lifeline.child_fd,),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    async with asyncio.timeout(30):
        assert await process.stdout.readline() == b"watching\n"
    lifeline.close()  # what the kernel does when the supervisor dies
    async with asyncio.timeout(5):
        assert await process.wait() == 0


async def test_unless_stopped_returns_the_result_or_raises_stopped() -> None:
    stop = StopRequest()
    assert await stop.unless_stopped(asyncio.sleep(0, "done")) == "done"
    never = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(stop.request, "test")
    with pytest.raises(Stopped):
        await stop.unless_stopped(never)
    assert never.cancelled()
    with pytest.raises(Stopped):  # already requested: the work does not even run
        await stop.unless_stopped(asyncio.sleep(10))
    assert not stop._repeated.is_set()
    stop.request("again")
    async with asyncio.timeout(1):
        await stop.wait_repeated()
    assert stop.reason == "test"


async def test_a_child_ignoring_sigterm_is_killed_after_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(children_module, "KILL_AFTER_SECONDS", 0.5)
    stop = StopRequest()
    children = Children(stop, "INFO", "text", program=(sys.executable, "-c", STUBBORN))
    child = await children.spawn("stubborn", [])
    async with asyncio.timeout(30):
        assert await children.ready(child) == [{"ok": True}]
    stop.request("test")
    started = time.monotonic()
    async with asyncio.timeout(5):
        await children.stop_all()
    assert child.process.returncode == -signal.SIGKILL
    assert time.monotonic() - started >= 0.5


async def test_asking_again_kills_at_once() -> None:
    stop = StopRequest()
    children = Children(stop, "INFO", "text", program=(sys.executable, "-c", STUBBORN))
    child = await children.spawn("stubborn", [])
    async with asyncio.timeout(30):
        await children.ready(child)
    stop.request("first")
    stop.request("second")  # a second Ctrl-C
    async with asyncio.timeout(2):  # well before KILL_AFTER_SECONDS
        await children.stop_all()
    assert child.process.returncode == -signal.SIGKILL


async def test_a_child_ending_before_ready_is_named() -> None:
    stop = StopRequest()
    children = Children(stop, "INFO", "text", program=(sys.executable, "-c", FAILING))
    child = await children.spawn("relay", [])
    with pytest.raises(ChildFailed, match="the relay exited with code 3 before it was ready"):
        async with asyncio.timeout(30):
            await children.ready(child)
    await children.stop_all()


async def test_nothing_is_spawned_once_stop_was_asked() -> None:
    stop = StopRequest()
    stop.request("test")
    children = Children(stop, "INFO", "text", program=(sys.executable, "-c", FAILING))
    with pytest.raises(Stopped):
        await children.spawn("relay", [])
    await children.stop_all()
