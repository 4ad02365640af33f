"""The child processes of `tokenplace up`: started with a readiness pipe and the
lifeline, their output forwarded, and every one of them stopped within a bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tokenplace.cli.lifeline import Lifeline
from tokenplace.cli.readiness import ReadyMessage, ReadyPipe
from tokenplace.cli.stop import Stopped, StopRequest

log = logging.getLogger(__name__)
# SIGTERM first; whatever still runs this long after is killed, so `up` is gone
# within 10 s even if a child hangs. The children's own stops fit inside it
# (relay drain 5 s, node job grace 3 s, gateway 5 s, all at once).
KILL_AFTER_SECONDS = 7.0
# Output still buffered in a pipe after its child exited is forwarded, this long at most.
FORWARD_DRAIN_SECONDS = 1.0


class ChildFailed(Exception):
    """A child ended without being asked to: `up` stops the others and exits non-zero."""


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    ready_pipe: ReadyPipe
    forwarder: asyncio.Task[None]

    def ended(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"


TOKENPLACE = (sys.executable, "-m", "tokenplace.cli.main")


class Children:
    """Starts `tokenplace <command>` children and supervises them for `up`."""

    def __init__(
        self,
        stop: StopRequest,
        log_level: str,
        log_format: str,
        program: Sequence[str] = TOKENPLACE,
    ) -> None:
        self.stop = stop
        self._program = program
        self._log_flags = ["--log-level", log_level, "--log-format", log_format]
        self._json = log_format == "json"
        self._lifeline = Lifeline()
        self._children: list[Child] = []

    async def spawn(self, name: str, argv: Sequence[str]) -> Child:
        """Start the child; Stopped if a stop was asked first (nothing is started then)."""
        if self.stop.requested:
            raise Stopped(self.stop.reason)
        ready = ReadyPipe()
        lifeline = self._lifeline.child_fd
        try:
            process = await asyncio.create_subprocess_exec(
                *self._program,
                *self._log_flags,
                "--ready-fd",
                str(ready.child_fd),
                "--lifeline-fd",
                str(lifeline),
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=_child_env(),
                pass_fds=(ready.child_fd, lifeline),
            )
        except BaseException:
            ready.close()
            raise
        finally:
            ready.child_spawned()
        # Recorded before anything else can run: stop_all() sees every child started.
        child = Child(name, process, ready, asyncio.create_task(self._forward(name, process)))
        self._children.append(child)
        log.info("started the %s", name, extra={"child": name, "pid": process.pid})
        return child

    async def ready(self, *children: Child) -> list[ReadyMessage]:
        """Each child's ready message, in order. Stopped if a stop comes first,
        ChildFailed as soon as one of them ends without being ready."""
        return await self.stop.unless_stopped(_all(self._ready(child) for child in children))

    async def watch(self) -> None:
        """Return when a stop is asked; ChildFailed when a child ends by itself."""
        exits = {asyncio.create_task(child.process.wait()): child for child in self._children}
        try:
            done, _ = await self.stop.unless_stopped(
                asyncio.wait(exits, return_when=asyncio.FIRST_COMPLETED)
            )
        except Stopped:
            return
        finally:
            for task in exits:
                task.cancel()
        child = exits[next(iter(done))]
        raise ChildFailed(f"the {child.name} {child.ended()}")

    async def stop_all(self) -> None:
        """SIGTERM every child still running, SIGKILL those left after
        KILL_AFTER_SECONDS (or at once when asked again to stop: a second Ctrl-C),
        and reap them all. Children started after the stop was asked are included:
        they are in the list from the moment they exist."""
        running = [child for child in self._children if child.process.returncode is None]
        for child in reversed(running):  # node first, relay last: the order they depend
            _send(child, signal.SIGTERM)
        if running:
            exits = asyncio.gather(*(child.process.wait() for child in running))
            forced = asyncio.create_task(self.stop.wait_repeated())
            either: set[asyncio.Future[Any]] = {exits, forced}
            await asyncio.wait(
                either, timeout=KILL_AFTER_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            forced.cancel()
            for child in running:
                if child.process.returncode is None:
                    log.warning("the %s is still running; killing it", child.name)
                    _send(child, signal.SIGKILL)
            await exits
        forwarders = [child.forwarder for child in self._children]
        if forwarders:
            await asyncio.wait(forwarders, timeout=FORWARD_DRAIN_SECONDS)
        for child in self._children:
            child.forwarder.cancel()
            child.ready_pipe.close()
        self._lifeline.close()

    async def _ready(self, child: Child) -> ReadyMessage:
        message = await child.ready_pipe.message()
        if message is None:  # the pipe closed without a message: the child has ended
            await child.process.wait()
            raise ChildFailed(f"the {child.name} {child.ended()} before it was ready")
        log.debug("the %s is ready", child.name, extra={"child": child.name, "ready": message})
        return message

    async def _forward(self, name: str, process: asyncio.subprocess.Process) -> None:
        """Copy the child's output to ours, line by line, tagged with its name.

        Keeps reading even if our own stdout is gone: a child blocked on a full
        pipe would stop answering."""
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with contextlib.suppress(OSError):
                print(_json_tagged(name, line) if self._json else f"[{name}] {line}", flush=True)


async def _all(waits: Iterable[Awaitable[ReadyMessage]]) -> list[ReadyMessage]:
    """Await every one; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
    for task in tasks:
        error = None if not task.done() or task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]


def _json_tagged(name: str, line: str) -> str:
    """With --log-format json, every forwarded line stays one JSON object, with "child"."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        entry = {"message": line}
    entry.setdefault("child", name)
    return json.dumps(entry, ensure_ascii=False)


def _send(child: Child, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.process.send_signal(sig)


def _child_env() -> dict[str, str]:
    """Our environment; a join token set for the relay is handed to the local node too."""
    env = dict(os.environ)
    relay_token = env.get("TOKENPLACE_RELAY_JOIN_TOKEN")
    if relay_token:
        env.setdefault("TOKENPLACE_NODE_JOIN_TOKEN", relay_token)
    return env
