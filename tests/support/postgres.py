"""A throwaway PostgreSQL cluster for tests: temp dir, loopback port, torn down at exit.

The `postgres_cluster` fixture skips (with the reason) when PostgreSQL's server
binaries are missing or the cluster cannot start.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

START_ATTEMPTS = 3
SUPERUSER = "postgres"


class PostgresUnavailable(Exception):
    pass


@dataclass
class PostgresCluster:
    root: Path
    bindir: Path
    port: int
    host: str = "127.0.0.1"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(
            host=self.host, port=self.port, user=SUPERUSER, database="postgres"
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's versioned dirs."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _as_cluster_owner(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return command


def _run(command: list[str]) -> None:
    result = subprocess.run(
        _as_cluster_owner(command), capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise PostgresUnavailable(f"{Path(command[0]).name} failed: {' | '.join(tail)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="tokenplace-pg-"))
    (root / "sockets").mkdir()
    if os.geteuid() == 0:
        try:
            shutil.chown(root, SUPERUSER)
            shutil.chown(root / "sockets", SUPERUSER)
        except LookupError as error:
            shutil.rmtree(root)
            raise PostgresUnavailable(f"running as root but no {SUPERUSER!r} user") from error
    return root


def start_cluster() -> PostgresCluster:
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install them, e.g. apt-get install -y postgresql"
        )
    root = _make_root()
    data = root / "data"
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "--no-locale", "-E", "UTF8", "--no-sync"])  # fmt: skip
        for attempt in range(START_ATTEMPTS):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {root / 'sockets'} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                      "-w", "-t", "30", "-o", options, "start"])  # fmt: skip
                return PostgresCluster(root=root, bindir=bindir, port=port)
            except PostgresUnavailable:
                if attempt == START_ATTEMPTS - 1:  # the port may have been taken meanwhile
                    raise
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


def stop_cluster(cluster: PostgresCluster) -> None:
    with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
        _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.root / "data"),
              "-m", "immediate", "-w", "stop"])  # fmt: skip
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the whole test session, or a skip saying why not.

    In CI (CI=true) PostgreSQL is part of the contract (`make test` installs it),
    so its absence fails the run instead of skipping quietly.
    """
    try:
        cluster = start_cluster()
    except PostgresUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unavailable in CI: {error}")
        pytest.skip(f"PostgreSQL unavailable: {error}")
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
