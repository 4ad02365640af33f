"""Paired A/B: what a change does to the echo path's latency, free of the machine's drift.

This VM's speed drifts by 2-3x within minutes, so two runs of network_overhead.py a
few minutes apart differ by more than most changes do. Here two echo networks run side
by side: A from a git ref, B from the working tree, each its own code in its own
environment (A: the commit exported and installed by its own Makefile, cached; see
checkout.py; B: this checkout's venv). Requests alternate between them one at a time
(A B B A A B ...), so both meet the same machine; only one network is ever busy. Each run
reports the p50 of each side and B - A, per client (httpx and http.client, plaintext;
httpx, encrypted mode); the last row of each is the median over runs.

With --generation, each side then runs a llama_cpp node (bundled SmolLM2, one slot) in
place of its echo node, and the two alternate network_overhead.py's generation request
(POST /v1/completions, same prompt, max_tokens and temperature 0), one at a time after a
warm-up each: each side's completion tokens/s, the median over runs, and B / A.

Run from the repo root:
``.venv/bin/python bench/paired.py [REF] [--runs N] [--requests N] [--generation]``.
REF defaults to HEAD, so the uncommitted change is what is measured.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack

import checkout
import httpx
from checkout import Side
from network_overhead import (
    ECHO_MODEL,
    FULL,
    GENERATION_TIMEOUT_S,
    BenchError,
    EncryptedClient,
    Network,
    busy_lines,
    completion_body,
    cpu_busy_share,
    encrypted_echo,
    generate_via_network,
    machine_summary,
    percentile,
    plaintext_echo,
    plaintext_echo_stdlib,
    running_network,
    story_job,
)
from report import format_table

WARMUP = 100
Send = Callable[[], float]  # one request; returns its latency in ms


def progress(message: str) -> None:
    print(f"[paired] {message}", file=sys.stderr, flush=True)


# --- echo latency -----------------------------------------------------------------------


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


def echo_rows(networks: list[Network], runs: int, requests: int) -> list[list[str]]:
    with ExitStack() as stack:
        sides = [senders(network, stack) for network in networks]
        rows = []
        for name in sides[0]:
            progress(f"echo, {name}")
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


# --- generation throughput --------------------------------------------------------------


def speed_row(label: str, a: float, b: float) -> list[str]:
    return [label, f"{a:.1f}", f"{b:.1f}", f"x{b / a:.3f}"]


def generation_rows(networks: list[Network], runs: int) -> tuple[list[list[str]], list[str]]:
    """Rows of tokens/s per run and side, and notes on answers that were not alike."""
    body = completion_body(story_job(FULL.max_tokens))
    speeds: tuple[list[float], list[float]] = ([], [])
    answers: set[tuple[int, str]] = set()
    with ExitStack() as stack:
        clients = []
        for network in networks:  # one model loads at a time
            network.start_node("llama_cpp")
            client = httpx.Client(
                base_url=network.base_url, timeout=GENERATION_TIMEOUT_S, trust_env=False
            )
            clients.append(stack.enter_context(client))
        for number in range(runs + 1):  # run 0 is each side's warm-up
            progress(f"generation run {number}/{runs}" + (" (warm-up)" if not number else ""))
            for side in (1, 0) if number % 2 else (0, 1):
                tokens, seconds, text = generate_via_network(clients[side], body)
                answers.add((tokens, text))
                if number:
                    speeds[side].append(tokens / seconds)
    pairs = list(zip(*speeds, strict=True))  # run i of A and B ran back to back
    rows = [speed_row(str(run), a, b) for run, (a, b) in enumerate(pairs, start=1)]
    rows.append(speed_row("median", statistics.median(speeds[0]), statistics.median(speeds[1])))
    ratios = [b / a for a, b in pairs]
    rows.append(["median of runs' B / A", "", "", f"x{statistics.median(ratios):.3f}"])
    notes = []
    if len(answers) > 1:
        notes.append(f"note: the answers differ ({len(answers)} distinct texts or token counts)")
    if {tokens for tokens, _ in answers} != {FULL.max_tokens}:
        notes.append("note: a completion stopped before max_tokens")
    return rows, notes


# --- main -------------------------------------------------------------------------------


def describe(a: Side, b: Side, a_ref: str, sha: str, code: list[str]) -> list[str]:
    dirty = checkout.git("status", "--porcelain", "--untracked-files=no")
    head = checkout.git("log", "-1", "--format=%h %s")
    return [
        f"A = {a_ref}: {checkout.git('log', '-1', '--format=%h %s', sha)}",
        f"    runs {code[0]} with {a.python}",
        f"B = working tree{' with uncommitted changes' if dirty else ''}, at {head}",
        f"    runs {code[1]} with {b.python}",
    ]


def measure(a: Side, b: Side, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(the A/B tables, where each side's code came from)"""
    with ExitStack() as stack:
        networks = [
            stack.enter_context(running_network(side.root, side.command)) for side in (a, b)
        ]
        echo_nodes = [network.start_node("echo") for network in networks]
        code = [str(checkout.verify(side, n)) for side, n in zip((a, b), networks, strict=True)]
        tables = [
            format_table(
                ["echo p50 (ms)", "run", a.name, b.name, "B - A"],
                echo_rows(networks, args.runs, args.requests),
            )
        ]
        if args.generation:
            for network, node in zip(networks, echo_nodes, strict=True):
                network.stop_node(node, ECHO_MODEL)
            rows, notes = generation_rows(networks, args.generation_runs)
            headers = [f"SmolLM2 tok/s ({FULL.max_tokens} tok)", a.name, b.name, "B / A"]
            tables += ["", format_table(headers, rows), *notes]
        return tables, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="A's git ref (default HEAD)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000, help="per side and run")
    parser.add_argument("--generation", action="store_true", help="then a generation A/B")
    parser.add_argument("--generation-runs", type=int, default=FULL.generation_runs)
    args = parser.parse_args(argv)
    sha = checkout.resolve(args.ref)
    if not sha:
        parser.error(f"{args.ref!r} names no commit in {checkout.REPO_ROOT}")
    progress(f"A = {args.ref}: installing {sha[:12]} in its own venv (cached)")
    a = checkout.prepare(sha, f"A ({args.ref})")
    b = checkout.this_checkout("B (working tree)")
    busy_before, started = cpu_busy_share(), time.monotonic()
    try:
        tables, code = measure(a, b, args)
    except BenchError as error:
        print(f"paired failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the networks have stopped
        return 130
    header = [
        f"token.place paired A/B - {machine_summary()}",
        *describe(a, b, args.ref, sha, code),
        f"echo: {args.requests} requests per side and run, alternating A B B A, after "
        f"{WARMUP} warm-up; p50",
    ]
    if args.generation:
        header.append(
            f"generation: completion at temperature 0, max_tokens {FULL.max_tokens}, "
            f"{args.generation_runs} runs + 1 warm-up per side, alternating"
        )
    seconds = time.monotonic() - started
    header += busy_lines(busy_before, cpu_busy_share(), seconds)
    print("\n".join([*header, "", *tables]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
