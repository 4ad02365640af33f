"""What API keys, rate limiting and token billing add per request (keys mode vs open mode).

Two real networks (relay, gateway, echo node as `tokenplace` child processes on
loopback) differ only in TOKENPLACE_RELAY_AUTH_MODE. The same plaintext chat
request is timed through each, over one keep-alive connection, in interleaved
rounds; each round yields a p50 and p99 and the table shows the median over
rounds. Added = keys - open. Keys mode authenticates the key (cached after the
first call), takes rate-limit leases, and reserves tokens in SQLite before
dispatch; charging, operator earnings and the request log settle after the
answer is sent. Target: added p50 <= 2 ms on SQLite.

Run from the repo root: .venv/bin/python bench/auth_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from network_overhead import Network, percentile

from tokenplace.gateway.account_client import AdminClient

OPERATOR = "bench-operator-token"
BODY = {"model": "echo", "messages": [{"role": "user", "content": "hello bench"}], "max_tokens": 16}
KEYS_ENV = {
    "TOKENPLACE_RELAY_AUTH_MODE": "keys",
    "TOKENPLACE_RELAY_OPERATOR_TOKEN": OPERATOR,
    "TOKENPLACE_RELAY_KEY_REQUESTS_PER_MINUTE": "100000000",
    "TOKENPLACE_RELAY_ACCOUNT_CONCURRENT_REQUESTS": "10000",
    "TOKENPLACE_RELAY_GLOBAL_REQUESTS_PER_MINUTE": "100000000",
}


@contextmanager
def network(extra_env: dict[str, str]) -> Iterator[Network]:
    with tempfile.TemporaryDirectory(prefix="tokenplace-auth-bench-") as workdir:
        net = Network(Path(workdir))
        net.env.update(extra_env)
        try:
            net.start_relay()
            net.start_gateway()
            net.start_node("echo")
            yield net
        finally:
            net.close()


async def mint_key(relay_address: str) -> str:
    async with grpc.aio.insecure_channel(relay_address) as channel:
        admin = AdminClient(channel, OPERATOR)
        account = await admin.create_account("bench")
        await admin.grant(account.id, 10**12)
        _, secret = await admin.mint_key(account.id, "bench")
        return secret


def timed_requests(client: httpx.Client, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        reply = client.post("/v1/chat/completions", json=BODY)
        samples.append((time.perf_counter() - start) * 1000)
        if reply.status_code != 200:
            raise SystemExit(f"request failed: {reply.status_code} {reply.text[:200]}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, per_round, warmup = (3, 100, 30) if args.quick else (5, 300, 100)
    results: dict[str, list[tuple[float, float]]] = {"open": [], "keys": []}
    with ExitStack() as stack:
        open_net = stack.enter_context(network({}))
        keys_net = stack.enter_context(network(KEYS_ENV))
        key = asyncio.run(mint_key(keys_net.relay_address))
        clients = {
            "open": stack.enter_context(httpx.Client(base_url=open_net.base_url, timeout=30)),
            "keys": stack.enter_context(
                httpx.Client(
                    base_url=keys_net.base_url,
                    timeout=30,
                    headers={"Authorization": f"Bearer {key}"},
                )
            ),
        }
        for client in clients.values():
            timed_requests(client, warmup)
        for round_index in range(rounds):
            order = ("open", "keys") if round_index % 2 == 0 else ("keys", "open")
            for mode in order:
                samples = timed_requests(clients[mode], per_round)
                results[mode].append((percentile(samples, 50), percentile(samples, 99)))
            print(f"round {round_index + 1}/{rounds}", file=sys.stderr)
    print_table(results, rounds, per_round)


def print_table(results: dict[str, list[tuple[float, float]]], rounds: int, per_round: int) -> None:
    open_p50 = statistics.median(p50 for p50, _ in results["open"])
    open_p99 = statistics.median(p99 for _, p99 in results["open"])
    keys_p50 = statistics.median(p50 for p50, _ in results["keys"])
    keys_p99 = statistics.median(p99 for _, p99 in results["keys"])
    added = keys_p50 - open_p50
    print(
        f"token.place auth + limits + billing overhead - {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite"
    )
    print(
        f"{rounds} interleaved rounds x {per_round} plaintext echo chats per mode; "
        "medians over rounds\n"
    )
    rows = [
        ("metric", "open mode", "keys mode", "added", "target", "result"),
        (
            "p50 (ms)",
            f"{open_p50:.3f}",
            f"{keys_p50:.3f}",
            f"{added:+.3f}",
            "<= +2",
            "PASS" if added <= 2 else "MISS",
        ),
        ("p99 (ms)", f"{open_p99:.3f}", f"{keys_p99:.3f}", f"{keys_p99 - open_p99:+.3f}", "-", "-"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
