"""What the network adds over calling the engine directly, measured in one run.

Everything is measured against a baseline taken in the same run, on the same machine:

* Echo latency (per request). Baseline: ``EchoEngine.generate`` called in this process on
  a short chat message. Network: the same message as ``POST /v1/chat/completions`` over
  one keep-alive HTTP connection to a real gateway, relay and echo node, each a child
  process started with the ``tokenplace`` CLI on free loopback ports, in two modes:
  plaintext (the gateway is the E2EE client) and encrypted (this script seals
  ``messages`` to the gateway's key and opens the sealed ``data``; that client-side
  crypto is timed apart from the HTTP round trip and shown in its own rows). The
  encrypted client keeps an E2EE session (``e2ee.session``: one wrapped AES key per
  peer, reused), as gateway and nodes do, so after the warm-up neither side spends an
  RSA private-key operation per request; a client sealing with a fresh key per
  message costs the gateway one RSA decryption (~0.6 ms) more, and itself one. After a
  warm-up, every mode (direct included) runs in each of several interleaved rounds; each
  round yields a p50 and a p99 and the table shows the median over rounds.
  Added = network - direct. Target: added p50 <= 5 ms on loopback.
  Plaintext mode is measured with two HTTP clients: httpx (what the openai SDK uses)
  and the standard library's http.client, whose own cost is ~1 ms less per request;
  the difference is the caller's HTTP stack, not the network, so both rows are shown.
* Generation throughput. Baseline: ``LlamaCppEngine`` with the bundled SmolLM2 loaded in
  this process, one fixed completion at temperature 0; tokens/s = completion_tokens /
  wall time of ``generate``. Network: the identical request (same ``JobRequest``, so the
  node hands its engine the very same ``GenerationRequest``) as ``POST /v1/completions``
  to a node process running the same engine, the only node (the echo node is stopped
  first); tokens/s = usage.completion_tokens / HTTP wall time. The two sides alternate
  run by run, never at once (2 cores), after one untimed warm-up each, so load from
  outside the benchmark lands on both alike. Ratio = median network / median direct.
  Target: >= 0.95.
* Engines side by side. ``CTransformersEngine`` (``--engine ctransformers``) with the
  same model, settings (one slot, the same thread count) and request, loaded in this
  process too, runs directly as a third side of the same rotation; its row gives its
  median tokens/s and the ratio to llama.cpp's direct median of the same run. No
  target: it is there to choose an engine by. Where it cannot load, the row says why.

A second table gives the CPU time each process spends per echo request, and how many
times its threads went to sleep and were woken again (voluntary context switches), from
/proc on Linux: with every hop waiting on the previous one, that is where the added
latency goes, and on a virtual machine each wake-up costs tens of microseconds.

Run from the repo root: ``.venv/bin/python bench/network_overhead.py [--quick] [--json PATH]``
(or ``make bench``). Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import transport_floor
from cryptography.hazmat.primitives.asymmetric import rsa
from loopback import free_port
from report import format_table

from tokenplace.cli import event_loop, grpc_io
from tokenplace.e2ee import (
    Envelope,
    generate_private_key,
    load_public_key,
    public_key_b64,
)
from tokenplace.e2ee.payload import JobRequest, SamplingOptions
from tokenplace.e2ee.session import Opener, Sealer
from tokenplace.node.engines.base import Engine, GenerationRequest
from tokenplace.node.engines.bundled import SMOLLM2
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.jobs import to_generation_request

REPO_ROOT = Path(__file__).resolve().parents[1]
# How a network's children start the `tokenplace` CLI unless told otherwise: this
# interpreter, so this checkout's code.
TOKENPLACE = (sys.executable, "-m", "tokenplace.cli.main")
ECHO_MODEL = "echo"
CHAT_MESSAGES = [{"role": "user", "content": "What is the capital of Germany?"}]
ECHO_ANSWER = "echo: What is the capital of Germany?"
STORY_PROMPT = "Once upon a time, in a small village at the edge of a great forest,"
ADDED_P50_TARGET_MS = 5.0
GENERATION_RATIO_TARGET = 0.95
STARTUP_TIMEOUT_S = 120.0
GENERATION_TIMEOUT_S = 300.0
# A busier machine than this (share of all CPUs) just before or after the run: warn.
BUSY_SHARE = 0.2


@dataclass(frozen=True)
class Plan:
    rounds: int
    requests: int
    warmup: int
    generation_runs: int
    floor: transport_floor.FloorPlan
    max_tokens: int = 128


# Single generation runs here vary by +-10% as the machine's speed drifts; with 7 runs per
# side the ratio of medians still swung x0.94-x1.05 around a mean of about x0.98.
FULL = Plan(rounds=5, requests=200, warmup=50, generation_runs=11, floor=transport_floor.FULL)
QUICK = Plan(rounds=3, requests=50, warmup=20, generation_runs=3, floor=transport_floor.QUICK)


class BenchError(RuntimeError):
    """A child process failed or answered something unexpected."""


# --- statistics -------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100), linearly interpolated between closest ranks."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class LatencyRounds:
    """Per-round p50/p99 (milliseconds) of one mode."""

    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)

    def add(self, samples_ms: list[float]) -> None:
        self.p50.append(percentile(samples_ms, 50))
        self.p99.append(percentile(samples_ms, 99))

    @property
    def median_p50(self) -> float:
        return statistics.median(self.p50)

    @property
    def median_p99(self) -> float:
        return statistics.median(self.p99)


# --- child processes --------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Network:
    """Relay, gateway and nodes as `tokenplace` child processes on loopback ports.

    `command` starts the CLI (by default this checkout's, with this interpreter); the
    children run in `repo`, the checkout whose code that command runs.
    """

    def __init__(
        self, workdir: Path, repo: Path = REPO_ROOT, command: Sequence[str] = TOKENPLACE
    ) -> None:
        self.workdir = workdir
        self.repo = repo
        self.command = list(command)
        self.relay_address = f"127.0.0.1:{free_port()}"
        self.gateway_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.gateway_port}"
        self.children: list[Child] = []
        self.env = {
            # Each child's own checkout picks its gRPC I/O (cli/grpc_io.py), not this one.
            **grpc_io.operator_environment(),
            "XDG_DATA_HOME": str(workdir / "data"),
            "TOKENPLACE_GATEWAY_KEY_PATH": str(workdir / "gateway_key.pem"),
            # A benchmark is a flood from one address: lift open mode's per-IP limits.
            "TOKENPLACE_RELAY_IP_REQUESTS_PER_MINUTE": "100000000",
            "TOKENPLACE_RELAY_IP_CONCURRENT_REQUESTS": "10000",
            # Not the fixed default: a leftover relay, or a second network, holds it.
            "TOKENPLACE_RELAY_METRICS_PORT": str(free_port()),
        }

    def spawn(self, name: str, argv: list[str]) -> Child:
        log_path = self.workdir / f"{name}.log"
        command = [*self.command, "--log-level", "WARNING", *argv]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.repo, env=self.env
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def start_relay(self) -> None:
        port = self.relay_address.rsplit(":", 1)[1]
        relay = self.spawn("relay", ["relay", "--port", port])
        # A print(), so it shows whatever the log level.
        wait_for(relay, lambda: "relay: listening on" in relay.log_path.read_text(), "listening")

    def start_gateway(self) -> None:
        argv = ["gateway", "--relay", self.relay_address, "--port", str(self.gateway_port)]
        gateway = self.spawn("gateway", argv)
        wait_for(gateway, self._gateway_healthy, "healthy")

    def start_node(self, engine: str) -> Child:
        argv = ["node", "--relay", self.relay_address, "--engine", engine, "--slots", "1"]
        argv += ["--key-path", str(self.workdir / f"node_{engine}_key.pem")]
        node = self.spawn(f"node-{engine}", [*argv, "--name", f"bench-{engine}"])
        model = ECHO_MODEL if engine == "echo" else SMOLLM2.id
        wait_for(node, lambda: model in self.models(), f"serving {model}", STARTUP_TIMEOUT_S)
        return node

    def stop_node(self, node: Child, model: str) -> None:
        node.stop()
        deadline = time.monotonic() + 30
        while model in self.models():
            if time.monotonic() > deadline:
                raise BenchError(f"{model} is still listed after its node stopped")
            time.sleep(0.05)

    def models(self) -> list[str]:
        try:
            reply = httpx.get(f"{self.base_url}/v1/models", timeout=5, trust_env=False)
        except httpx.HTTPError:
            return []
        return [m["id"] for m in reply.json().get("data", [])] if reply.is_success else []

    def _gateway_healthy(self) -> bool:
        try:
            reply = httpx.get(f"{self.base_url}/v1/health", timeout=5, trust_env=False)
        except httpx.HTTPError:
            return False
        return reply.is_success and reply.json().get("relay") == "reachable"

    def pids(self) -> dict[str, int]:
        return {c.name: c.process.pid for c in self.children if c.process.poll() is None}

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()


def wait_for(
    child: Child, ready: Callable[[], bool], what: str, timeout: float = STARTUP_TIMEOUT_S
) -> None:
    """Poll `ready` until true; fail fast (with the child's output) if the child exits."""
    deadline = time.monotonic() + timeout
    while not ready():
        if child.process.poll() is not None:
            raise BenchError(f"the {child.name} exited early:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"the {child.name} was not {what} within {timeout:.0f} s")
        time.sleep(0.05)


@contextmanager
def running_network(
    repo: Path = REPO_ROOT, command: Sequence[str] = TOKENPLACE
) -> Iterator[Network]:
    """A relay and a gateway running `repo`'s code; nodes are started by the caller."""
    with tempfile.TemporaryDirectory(prefix="tokenplace-bench-") as workdir:
        network = Network(Path(workdir), repo, command)
        try:
            network.start_relay()
            network.start_gateway()
            yield network
        finally:
            network.close()


# --- echo latency -----------------------------------------------------------------------


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def direct_echo(engine: EchoEngine, request: GenerationRequest, count: int) -> list[float]:
    cancelled = threading.Event()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        generation = engine.generate(request, cancelled)
        samples.append(ms_since(start))
        if generation.text != ECHO_ANSWER:
            raise BenchError(f"EchoEngine answered {generation.text!r}")
    return samples


def check_reply(reply: httpx.Response) -> dict[str, Any]:
    if reply.status_code != 200:
        raise BenchError(f"{reply.request.url.path} answered {reply.status_code}: {reply.text}")
    body: dict[str, Any] = reply.json()
    return body


def plaintext_echo_stdlib(connection: http.client.HTTPConnection, count: int) -> list[float]:
    """Plaintext mode through http.client: the same request, a leaner client."""
    body = json.dumps({"model": ECHO_MODEL, "messages": CHAT_MESSAGES}).encode()
    headers = {"Content-Type": "application/json"}
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
        reply = connection.getresponse()
        payload = reply.read()
        samples.append(ms_since(start))
        if reply.status != 200:
            raise BenchError(f"http.client: /v1/chat/completions answered {reply.status}")
        answer = json.loads(payload)["choices"][0]["message"]["content"]
        if answer != ECHO_ANSWER:
            raise BenchError(f"plaintext mode answered {answer!r}")
    return samples


def plaintext_echo(client: httpx.Client, count: int) -> list[float]:
    body = {"model": ECHO_MODEL, "messages": CHAT_MESSAGES}
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        reply = client.post("/v1/chat/completions", json=body)
        samples.append(ms_since(start))
        answer = check_reply(reply)["choices"][0]["message"]["content"]
        if answer != ECHO_ANSWER:
            raise BenchError(f"plaintext mode answered {answer!r}")
    return samples


@dataclass
class EncryptedClient:
    """The caller's side of encrypted mode: its own key pair and the gateway's key."""

    public_key: str
    gateway_key: rsa.RSAPublicKey
    sealer: Sealer
    opener: Opener

    @classmethod
    def for_gateway(cls, client: httpx.Client) -> EncryptedClient:
        gateway_key = check_reply(client.get("/v1/public-key"))["public_key"]
        private_key = generate_private_key()
        return cls(
            public_key_b64(private_key), load_public_key(gateway_key), Sealer(), Opener(private_key)
        )


@dataclass
class EncryptedSamples:
    http: list[float] = field(default_factory=list)
    seal: list[float] = field(default_factory=list)
    open: list[float] = field(default_factory=list)


def encrypted_echo(client: httpx.Client, caller: EncryptedClient, count: int) -> EncryptedSamples:
    samples = EncryptedSamples()
    for _ in range(count):
        start = time.perf_counter()
        sealed = caller.sealer.seal_json(CHAT_MESSAGES, caller.gateway_key).to_json()
        samples.seal.append(ms_since(start))
        body = {
            "model": ECHO_MODEL,
            "encrypted": True,
            "client_public_key": caller.public_key,
            "messages": sealed,
        }
        start = time.perf_counter()
        reply = client.post("/v1/chat/completions", json=body)
        samples.http.append(ms_since(start))
        data = check_reply(reply)["data"]
        start = time.perf_counter()
        completion = caller.opener.open_json(Envelope.from_json(data))
        samples.open.append(ms_since(start))
        answer = completion["choices"][0]["message"]["content"]
        if answer != ECHO_ANSWER:
            raise BenchError(f"encrypted mode answered {answer!r}")
    return samples


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all threads (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_wakeups(pid: int) -> int | None:
    """Voluntary context switches of all a process's threads (Linux /proc; None elsewhere).

    Each is a thread going to sleep to be woken again, which on a virtual machine costs
    tens of microseconds and leaves its caches cold: the echo path's main cost here.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return None
    total = 0
    for task in tasks:
        try:
            status = (task / "status").read_text()
        except OSError:
            continue  # the thread ended
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


@dataclass(frozen=True)
class Reading:
    cpu_seconds: float
    wakeups: int | None


@dataclass
class CpuUsage:
    """CPU time and thread wake-ups each process spends per request of one mode
    ("client" is this process)."""

    pids: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    wakeups: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def snapshot(self) -> dict[str, Reading]:
        taken = {"client": Reading(time.process_time(), process_wakeups(os.getpid()))}
        for name, pid in self.pids.items():
            cpu = process_cpu_seconds(pid)
            if cpu is not None:
                taken[name] = Reading(cpu, process_wakeups(pid))
        return taken

    def add(self, before: dict[str, Reading], after: dict[str, Reading], requests: int) -> None:
        for name in before.keys() & after.keys():
            start, end = before[name], after[name]
            self.seconds[name] = self.seconds.get(name, 0.0) + end.cpu_seconds - start.cpu_seconds
            if start.wakeups is not None and end.wakeups is not None:
                self.wakeups[name] = self.wakeups.get(name, 0) + end.wakeups - start.wakeups
        self.requests += requests

    def per_request_ms(self) -> dict[str, float]:
        return {name: cpu * 1000 / self.requests for name, cpu in self.seconds.items()}

    def per_request_wakeups(self) -> dict[str, float]:
        return {name: count / self.requests for name, count in self.wakeups.items()}


@dataclass
class EchoResult:
    direct: LatencyRounds
    plaintext: LatencyRounds
    plaintext_stdlib: LatencyRounds
    encrypted: LatencyRounds
    client_seal: LatencyRounds
    client_open: LatencyRounds
    cpu: dict[str, CpuUsage]


def measure_echo(network: Network, plan: Plan) -> EchoResult:
    engine = EchoEngine()
    request = GenerationRequest(kind="chat", messages=CHAT_MESSAGES)
    pids = network.pids()
    cpu = {mode: CpuUsage(pids) for mode in ("plaintext", "plaintext stdlib", "encrypted")}
    result = EchoResult(*(LatencyRounds() for _ in range(6)), cpu=cpu)
    connection = http.client.HTTPConnection("127.0.0.1", network.gateway_port, timeout=30)
    with httpx.Client(base_url=network.base_url, timeout=30, trust_env=False) as client:
        caller = EncryptedClient.for_gateway(client)
        direct_echo(engine, request, plan.warmup)
        plaintext_echo(client, plan.warmup)
        plaintext_echo_stdlib(connection, plan.warmup)
        encrypted_echo(client, caller, plan.warmup)
        for number in range(1, plan.rounds + 1):
            progress(f"echo round {number}/{plan.rounds}")
            result.direct.add(direct_echo(engine, request, plan.requests))
            before = cpu["plaintext"].snapshot()
            result.plaintext.add(plaintext_echo(client, plan.requests))
            cpu["plaintext"].add(before, cpu["plaintext"].snapshot(), plan.requests)
            # http.client does not re-open a connection the server closed; the gateway
            # closes one idle for 5 s, which a slow machine reaches between rounds.
            connection.close()
            plaintext_echo_stdlib(connection, 1)
            before = cpu["plaintext stdlib"].snapshot()
            result.plaintext_stdlib.add(plaintext_echo_stdlib(connection, plan.requests))
            cpu["plaintext stdlib"].add(before, cpu["plaintext stdlib"].snapshot(), plan.requests)
            before = cpu["encrypted"].snapshot()
            encrypted = encrypted_echo(client, caller, plan.requests)
            cpu["encrypted"].add(before, cpu["encrypted"].snapshot(), plan.requests)
            result.encrypted.add(encrypted.http)
            result.client_seal.add(encrypted.seal)
            result.client_open.add(encrypted.open)
    connection.close()
    return result


# --- generation throughput --------------------------------------------------------------


def story_job(max_tokens: int) -> JobRequest:
    """The one request both sides run: a completion that should not stop early."""
    options = SamplingOptions(max_tokens=max_tokens, temperature=0.0)
    return JobRequest(model=SMOLLM2.id, prompt=STORY_PROMPT, options=options)


def completion_body(job: JobRequest) -> dict[str, Any]:
    """`job` as the body of a POST /v1/completions."""
    return {"model": job.model, "prompt": job.prompt, **job.options.model_dump(exclude_none=True)}


@dataclass
class GenerationRuns:
    tokens_per_second: list[float] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)
    text: str = ""

    def add(self, tokens: int, seconds: float, text: str) -> None:
        self.tokens_per_second.append(tokens / seconds)
        self.completion_tokens.append(tokens)
        self.text = text

    @property
    def median(self) -> float:
        return statistics.median(self.tokens_per_second)


def load_smollm2(engine: str = "llama_cpp") -> Engine:
    from tokenplace.node.config import NodeSettings
    from tokenplace.node.engines import create_engine

    # The same settings a `tokenplace node --engine ENGINE --slots 1` builds.
    return create_engine(NodeSettings(engine=engine, slots=1))


@dataclass
class GenerationResult:
    direct: GenerationRuns
    network: GenerationRuns
    # CTransformersEngine in this process; None (and why) where it could not load.
    ctransformers: GenerationRuns | None
    ctransformers_unavailable: str | None = None


def generate_directly(engine: Engine, request: GenerationRequest) -> tuple[int, float, str]:
    """(completion tokens, wall seconds, text) of one in-process generation."""
    start = time.perf_counter()
    generation = engine.generate(request, threading.Event())
    seconds = time.perf_counter() - start
    return generation.completion_tokens, seconds, generation.text


def generate_via_network(client: httpx.Client, body: dict[str, Any]) -> tuple[int, float, str]:
    """(usage.completion_tokens, HTTP wall seconds, text) of one POST /v1/completions."""
    start = time.perf_counter()
    reply = client.post("/v1/completions", json=body)
    seconds = time.perf_counter() - start
    completion = check_reply(reply)
    return completion["usage"]["completion_tokens"], seconds, completion["choices"][0]["text"]


def measure_generation(network: Network, job: JobRequest, runs: int) -> GenerationResult:
    """Rotate in-process and full-stack runs of `job`, one at a time, after a warm-up.

    Rotating which side goes first spreads any load from outside this benchmark
    evenly over the sides; an idle side holds its model but uses no CPU.
    """
    request = to_generation_request(job)  # exactly what the node hands its engine
    body = completion_body(job)
    engine = load_smollm2()
    other, unavailable = load_ctransformers()
    result = GenerationResult(GenerationRuns(), GenerationRuns(), None, unavailable)
    try:
        network.start_node("llama_cpp")
        timeout = GENERATION_TIMEOUT_S
        with httpx.Client(base_url=network.base_url, timeout=timeout, trust_env=False) as client:
            sides: list[tuple[GenerationRuns, Callable[[], tuple[int, float, str]]]] = [
                (result.direct, lambda: generate_directly(engine, request)),
                (result.network, lambda: generate_via_network(client, body)),
            ]
            if other is not None:
                result.ctransformers = GenerationRuns()
                sides.append((result.ctransformers, lambda: generate_directly(other, request)))
            for number in range(runs + 1):  # run 0 is the warm-up
                progress(f"generation run {number}/{runs}" + (" (warm-up)" if not number else ""))
                first = number % len(sides)
                for runs_of_side, generate in sides[first:] + sides[:first]:
                    tokens, seconds, text = generate()
                    if number:
                        runs_of_side.add(tokens, seconds, text)
    finally:
        engine.close()
        if other is not None:
            other.close()
    return result


def load_ctransformers() -> tuple[Engine | None, str | None]:
    """The ctransformers engine as `tokenplace node --engine ctransformers` builds it, or
    None and the one-line reason it cannot load here."""
    from tokenplace.node.engines.base import EngineUnavailable

    try:
        return load_smollm2("ctransformers"), None
    except EngineUnavailable as unavailable:
        progress(f"ctransformers: {unavailable}")
        return None, str(unavailable)


# --- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def latency_rows(echo: EchoResult) -> list[list[str]]:
    direct = echo.direct
    rows = []
    modes = (
        ("plaintext (httpx)", echo.plaintext),
        ("plaintext (http.client)", echo.plaintext_stdlib),
        ("encrypted (httpx)", echo.encrypted),
    )
    for mode, rounds in modes:
        added_p50 = rounds.median_p50 - direct.median_p50
        added_p99 = rounds.median_p99 - direct.median_p99
        rows.append(
            [
                f"echo {mode} p50 (ms)",
                f"{direct.median_p50:.3f}",
                f"{rounds.median_p50:.3f}",
                f"+{added_p50:.3f}",
                f"<= +{ADDED_P50_TARGET_MS:g}",
                verdict(added_p50 <= ADDED_P50_TARGET_MS),
            ]
        )
        rows.append(
            [
                f"echo {mode} p99 (ms)",
                f"{direct.median_p99:.3f}",
                f"{rounds.median_p99:.3f}",
                f"+{added_p99:.3f}",
                "-",
                "-",
            ]
        )
    for name, rounds in (("seal", echo.client_seal), ("open", echo.client_open)):
        rows.append(
            [
                f"encrypted client {name} p50 / p99 (ms)",
                "-",
                f"{rounds.median_p50:.3f} / {rounds.median_p99:.3f}",
                "-",
                "-",
                "-",
            ]
        )
    return rows


def ctransformers_row(generation: GenerationResult, max_tokens: int) -> list[str]:
    label = f"SmolLM2 ctransformers generation tok/s ({max_tokens} tok)"
    if generation.ctransformers is None:
        return [label, "unavailable", "-", "-", "-", "-"]
    median = generation.ctransformers.median
    ratio = median / generation.direct.median
    return [label, f"{median:.1f}", "-", f"x{ratio:.3f} of llama.cpp", "-", "-"]


def generation_row(direct: GenerationRuns, network: GenerationRuns, max_tokens: int) -> list[str]:
    ratio = network.median / direct.median
    return [
        f"SmolLM2 generation tok/s ({max_tokens} tok)",
        f"{direct.median:.1f}",
        f"{network.median:.1f}",
        f"x{ratio:.3f}",
        f">= x{GENERATION_RATIO_TARGET:g}",
        verdict(ratio >= GENERATION_RATIO_TARGET),
    ]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "processor": platform.machine(),
        "event_loop": event_loop.name(),
    }


def cpu_busy_share(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over `seconds` while this benchmark idles (Linux; else None)."""

    def sample() -> tuple[int, int] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    before = sample()
    time.sleep(seconds)
    after = sample()
    if before is None or after is None or after[0] == before[0]:
        return None
    return 1 - (after[1] - before[1]) / (after[0] - before[0])


@dataclass
class Report:
    plan: Plan
    echo: EchoResult
    generation: GenerationResult
    floor: transport_floor.Floor
    busy_before: float | None
    busy_after: float | None
    seconds: float


CPU_COLUMNS = {"client": "client", "gateway": "gateway", "relay": "relay", "node-echo": "node"}


def cpu_table(echo: EchoResult) -> str:
    rows = []
    for mode, usage in echo.cpu.items():
        rows.append(_usage_row(f"CPU ms, {mode}", usage.per_request_ms(), "{:.2f}"))
    for mode, usage in echo.cpu.items():
        rows.append(_usage_row(f"wake-ups, {mode}", usage.per_request_wakeups(), "{:.1f}"))
    return format_table(["per echo request", *CPU_COLUMNS.values(), "total"], rows)


def _usage_row(label: str, per_request: dict[str, float], cell: str) -> list[str]:
    cells = [cell.format(per_request[n]) if n in per_request else "-" for n in CPU_COLUMNS]
    total = cell.format(sum(per_request.values())) if per_request else "-"
    return [label, *cells, total]


def machine_summary() -> str:
    info = machine()
    return (
        f"{info['cpus']} CPUs, {info['processor']}, "
        f"Python {info['python']} on {info['event_loop']}, {info['platform']}"
    )


def busy_lines(before: float | None, after: float | None, seconds: float) -> list[str]:
    """How busy other work kept the CPUs around a run, and a warning if too busy."""
    busy = [share for share in (before, after) if share is not None]
    lines = []
    if busy:
        shown = "/".join(f"{share:.0%}" for share in busy)
        lines.append(f"other CPU use just before/after: {shown}; total {seconds:.0f} s")
    if any(share > BUSY_SHARE for share in busy):
        lines.append("WARNING: other work was using these CPUs; expect noisy numbers")
    return lines


def header_lines(report: Report) -> list[str]:
    plan = report.plan
    return [
        f"token.place network overhead - {machine_summary()}",
        f"echo: {plan.rounds} rounds x {plan.requests} requests per mode after "
        f"{plan.warmup} warm-up, loopback, keep-alive HTTP; values are medians over rounds",
        f"generation: completion at temperature 0, max_tokens {plan.max_tokens}, "
        f"{plan.generation_runs} runs + 1 warm-up per side, rotating, median; "
        "the same thread count for both engines",
        *busy_lines(report.busy_before, report.busy_after, report.seconds),
    ]


def render(report: Report) -> str:
    generation, max_tokens = report.generation, report.plan.max_tokens
    main_table = format_table(
        ["metric", "direct", "network", "added/ratio", "target", "result"],
        [
            *latency_rows(report.echo),
            generation_row(generation.direct, generation.network, max_tokens),
            ctransformers_row(generation, max_tokens),
        ],
    )
    notes = generation_notes(generation, max_tokens)
    return "\n".join(
        [
            *header_lines(report),
            "",
            main_table,
            *notes,
            "",
            cpu_table(report.echo),
            "",
            transport_floor.render(report.floor),
            floor_note(report),
        ]
    )


def floor_note(report: Report) -> str:
    """How much of the added latency the bare hops alone cost, measured in this run."""
    added = report.echo.plaintext.median_p50 - report.echo.direct.median_p50
    floor = report.floor.echo_path_ms
    return (
        f"echo plaintext (httpx) added p50 {added:.3f} ms = transport floor {floor:.3f} ms "
        f"+ token.place {added - floor:+.3f} ms"
    )


def generation_notes(generation: GenerationResult, max_tokens: int) -> list[str]:
    notes = []
    direct, network, other = generation.direct, generation.network, generation.ctransformers
    counts = {*direct.completion_tokens, *network.completion_tokens}
    if counts != {max_tokens}:
        notes.append(f"note: completion_tokens varied or stopped early: {sorted(counts)}")
    if direct.text != network.text:
        notes.append("note: direct and network generations differ (they should be identical)")
    if other is None:
        notes.append(f"note: ctransformers could not run: {generation.ctransformers_unavailable}")
    elif set(other.completion_tokens) != {max_tokens}:
        notes.append(f"note: ctransformers stopped early: {sorted(set(other.completion_tokens))}")
    return notes


def latency_json(rounds: LatencyRounds) -> dict[str, Any]:
    return {
        "p50_ms": rounds.median_p50,
        "p99_ms": rounds.median_p99,
        "rounds_p50_ms": rounds.p50,
        "rounds_p99_ms": rounds.p99,
    }


def as_json(report: Report) -> dict[str, Any]:
    echo, direct, network = report.echo, report.generation.direct, report.generation.network
    modes = ("direct", "plaintext", "plaintext_stdlib", "encrypted", "client_seal", "client_open")
    latency = {mode: latency_json(getattr(echo, mode)) for mode in modes}
    return {
        "machine": machine(),
        "plan": asdict(report.plan),
        "other_cpu_share": {"before": report.busy_before, "after": report.busy_after},
        "seconds": report.seconds,
        "echo": latency,
        "added_ms": {
            mode: {
                "p50": latency[mode]["p50_ms"] - latency["direct"]["p50_ms"],
                "p99": latency[mode]["p99_ms"] - latency["direct"]["p99_ms"],
            }
            for mode in ("plaintext", "plaintext_stdlib", "encrypted")
        },
        "cpu_ms_per_request": {mode: usage.per_request_ms() for mode, usage in echo.cpu.items()},
        "wakeups_per_request": {
            mode: usage.per_request_wakeups() for mode, usage in echo.cpu.items()
        },
        "transport_floor": transport_floor.as_json(report.floor),
        "generation": {
            "direct_tokens_per_second": direct.tokens_per_second,
            "network_tokens_per_second": network.tokens_per_second,
            "direct_median": direct.median,
            "network_median": network.median,
            "ratio": network.median / direct.median,
            # Run i of each side ran back to back: a second, pairing-based estimate.
            "paired_ratio_median": statistics.median(
                n / d
                for d, n in zip(direct.tokens_per_second, network.tokens_per_second, strict=True)
            ),
            "completion_tokens": direct.completion_tokens + network.completion_tokens,
            "ctransformers": ctransformers_json(report.generation),
        },
        "targets": {
            "added_p50_ms": ADDED_P50_TARGET_MS,
            "generation_ratio": GENERATION_RATIO_TARGET,
        },
    }


def ctransformers_json(generation: GenerationResult) -> dict[str, Any]:
    runs = generation.ctransformers
    if runs is None:
        return {"unavailable": generation.ctransformers_unavailable}
    llama = generation.direct.tokens_per_second
    return {
        "direct_tokens_per_second": runs.tokens_per_second,
        "direct_median": runs.median,
        "ratio_to_llama_cpp_direct": runs.median / generation.direct.median,
        # Run i of each engine ran in the same rotation: a pairing-based estimate too.
        "paired_ratio_median": statistics.median(
            c / d for d, c in zip(llama, runs.tokens_per_second, strict=True)
        ),
        "completion_tokens": runs.completion_tokens,
        "same_text_as_llama_cpp": runs.text == generation.direct.text,
    }


# --- main -------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    return parser.parse_args(argv)


def run(plan: Plan) -> Report:
    job = story_job(plan.max_tokens)
    busy_before, started = cpu_busy_share(), time.monotonic()
    with running_network() as network:
        progress("starting the echo node")
        echo_node = network.start_node("echo")
        echo = measure_echo(network, plan)
        network.stop_node(echo_node, ECHO_MODEL)
        progress("transport floor: bare gRPC and HTTP hops")
        floor = transport_floor.measure(plan.floor)
        progress(
            "generation: SmolLM2 in this process (llama.cpp and ctransformers) "
            "and through a llama_cpp node"
        )
        generation = measure_generation(network, job, plan.generation_runs)
    seconds = time.monotonic() - started
    busy_after = cpu_busy_share()
    return Report(plan, echo, generation, floor, busy_before, busy_after, seconds)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(QUICK if args.quick else FULL)
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(as_json(report), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
