"""Node processes for tests that must kill, freeze or restart a real node."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class NodeProcess:
    """`tokenplace node --engine echo` in a child process, with its own key file."""

    def __init__(
        self, relay: str, key_path: Path, token_delay: float = 0.0, name: str = "proc-node"
    ) -> None:
        self.relay = relay
        self.key_path = key_path
        self.token_delay = token_delay
        self.name = name
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {
            **os.environ,
            "TOKENPLACE_NODE_ECHO_TOKEN_DELAY_SECONDS": str(self.token_delay),
            "TOKENPLACE_NODE_RECONNECT_BASE_SECONDS": "0.05",
            "TOKENPLACE_NODE_RECONNECT_MAX_SECONDS": "0.5",
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tokenplace.cli.main",
            "--log-level",
            "DEBUG",
            "node",
            "--relay",
            self.relay,
            "--engine",
            "echo",
            "--key-path",
            str(self.key_path),
            "--name",
            self.name,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace"))

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait()

    async def wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        if self._reader is not None:
            await self._reader
        return code

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.wait(), 10)
            except TimeoutError:
                await self.kill()
