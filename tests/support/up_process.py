"""`tokenplace up` as a test's child process, and the processes it starts, found by pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

from tests.support.processes import ROOT

READY_TIMEOUT_SECONDS = 60.0
FREE_PORTS = ("--port", "0", "--relay-port", "0", "--metrics-port", "0")
_PID = re.compile(r"\bpid[=\"': ]+(\d+)")


def up_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Our environment, with the node's and gateway's keys and the relay's database in tmp."""
    return {
        **os.environ,
        "TOKENPLACE_NODE_KEY_PATH": str(tmp_path / "node.pem"),
        "TOKENPLACE_GATEWAY_KEY_PATH": str(tmp_path / "gateway.pem"),
        "TOKENPLACE_RELAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}",
        **extra,
    }


class UpProcess:
    """`python -m tokenplace.cli.main <argv>`, its output read line by line as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.eof = False
        self.known_children: set[int] = set()
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        argv: list[str],
        env: dict[str, str],
        command: tuple[str, ...] = (sys.executable, "-m", "tokenplace.cli.main"),
        cwd: Path = ROOT,
    ) -> UpProcess:
        """`command` may be another environment's `tokenplace` (an installed wheel's)."""
        process = await asyncio.create_subprocess_exec(
            *command,
            *argv,
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def line_with(self, text: str) -> str:
        """The first output line containing `text`, waiting for it as long as `up` runs."""
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if text in line:
                        return line
                seen = len(self.lines)
                if self.eof:
                    raise AssertionError(f"no line with {text!r} in:\n{self.output}")
                await self._changed.wait()

    async def banner(self) -> str:
        """Waits for the banner; returns the output up to and including it."""
        await self.line_with("token.place is up")
        await self.line_with("Press Ctrl-C to stop.")
        return self.output

    def children(self) -> set[int]:
        """The processes `up` has started: its children now, and every pid it logged."""
        found = set(_children_of(self.process.pid)) | {
            int(match) for line in self.lines for match in _PID.findall(line)
        }
        found.discard(self.process.pid)
        self.known_children |= found
        return found

    async def wait_exit(self) -> int:
        code = await self.process.wait()
        await self._reader
        return code

    async def cleanup(self) -> None:
        """Leave nothing behind, whatever the test did: SIGKILL `up` and its children."""
        self.children()
        pids = set(self.known_children)
        if self.process.returncode is None:
            pids.add(self.process.pid)
        for pid in pids:
            if _is_tokenplace(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.process.returncode is None:
            await self.process.wait()
        self._reader.cancel()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()
        async with self._changed:
            self.eof = True
            self._changed.notify_all()


async def wait_gone(pid: int) -> None:
    """Returns once process `pid` has ended (not necessarily reaped): a pidfd turns
    readable then, whoever the process's parent is."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    loop.add_reader(fd, lambda: ended.done() or ended.set_result(None))
    try:
        await ended
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _children_of(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                children.append(int(stat.parent.name))
    return children


def _is_tokenplace(pid: int) -> bool:
    """Guards the cleanup's SIGKILL against a pid reused by some other process."""
    try:
        return b"tokenplace" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
