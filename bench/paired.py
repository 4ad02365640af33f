"""Paired A/B: what a change does to the echo path's latency, free of the machine's drift.

This VM's speed drifts by 2-3x within minutes, so two runs of network_overhead.py a
few minutes apart differ by more than most changes do. Here two echo networks run side
by side: A from a git ref (checked out into a temporary worktree), B from the working
tree. Requests alternate between them one at a time (A B B A A B ...), so both meet the
same machine; only one network is ever busy. Each run reports the p50 of each side and
B - A, per client (httpx and http.client, plaintext; httpx, encrypted mode); the last
row of each is the median over runs.

Run from the repo root: ``.venv/bin/python bench/paired.py [REF] [--runs N] [--requests N]``.
REF defaults to HEAD, so the uncommitted change is what is measured.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from network_overhead import (
    REPO_ROOT,
    EncryptedClient,
    Network,
    encrypted_echo,
    percentile,
    plaintext_echo,
    plaintext_echo_stdlib,
    running_network,
)
from report import format_table

WARMUP = 100
Send = Callable[[], float]  # one request; returns its latency in ms


def is_commit(ref: str) -> bool:
    verify = ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]
    return subprocess.run(verify, capture_output=True).returncode == 0


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tokenplace-paired-") as parent:
        path = Path(parent) / "a"
        git = ["git", "-C", str(REPO_ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", "--quiet", str(path), ref], check=True)
        try:
            yield path
        finally:
            subprocess.run([*git, "remove", "--force", str(path)], check=True)


@contextmanager
def echo_network(repo: Path) -> Iterator[Network]:
    with running_network(repo) as network:
        network.start_node("echo")
        yield network


def senders(network: Network, stack: ExitStack) -> dict[str, Send]:
    client = stack.enter_context(httpx.Client(base_url=network.base_url, trust_env=False))
    connection = http.client.HTTPConnection("127.0.0.1", network.gateway_port, timeout=30)
    stack.callback(connection.close)
    caller = EncryptedClient.for_gateway(client)
    return {
        "httpx": lambda: plaintext_echo(client, 1)[0],
        "http.client": lambda: plaintext_echo_stdlib(connection, 1)[0],
        "encrypted (httpx)": lambda: encrypted_echo(client, caller, 1).http[0],
    }


def alternate(a: Send, b: Send, count: int) -> tuple[float, float]:
    """p50 of each side over `count` requests each, sent A B B A A B ..."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(count):
        order = ((0, a), (1, b)) if i % 2 == 0 else ((1, b), (0, a))
        for side, send in order:
            samples[side].append(send())
    return percentile(samples[0], 50), percentile(samples[1], 50)


def measure(ref: str, runs: int, requests: int) -> list[list[str]]:
    with ExitStack() as stack:
        base = stack.enter_context(worktree(ref))
        print(f"[paired] A = {ref} in {base}; B = the working tree", file=sys.stderr)
        sides = [
            senders(stack.enter_context(echo_network(repo)), stack) for repo in (base, REPO_ROOT)
        ]
        rows = []
        for name in sides[0]:
            a, b = sides[0][name], sides[1][name]
            alternate(a, b, WARMUP)
            deltas = []
            for run in range(1, runs + 1):
                p50_a, p50_b = alternate(a, b, requests)
                deltas.append(p50_b - p50_a)
                rows.append(
                    [name, str(run), f"{p50_a:.3f}", f"{p50_b:.3f}", f"{p50_b - p50_a:+.3f}"]
                )
            rows.append([name, "median", "", "", f"{statistics.median(deltas):+.3f}"])
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="A's git ref (default HEAD)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000, help="per side and run")
    args = parser.parse_args(argv)
    if not is_commit(args.ref):
        parser.error(f"{args.ref!r} names no commit in {REPO_ROOT}")
    rows = measure(args.ref, args.runs, args.requests)
    headers = ["echo p50 (ms)", "run", f"A ({args.ref})", "B (working tree)", "B - A"]
    print(format_table(headers, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
