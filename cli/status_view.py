"""The state behind `tokenplace status` and its rendering, a pure function of that state.

`StatusState` starts from ListNodes / GetClusterStats and follows the WatchEvents
stream: job events update counters and the throughput window in place; node events
ask the caller to fetch the node list again (`apply` returns True).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tokenplace.client.types import ClusterStats, MonitoringEvent, NodeStatus, RelayStatus

NODE_EVENTS = frozenset({"node_joined", "node_left", "node_offline", "node_online"})
# As the relay counts them: a cancelled job is nobody's failure.
FAILED_OUTCOMES = frozenset({"failed", "node_lost", "deadline_exceeded"})


@dataclass
class StatusState:
    relay: str
    started: float  # epoch seconds, when the view started (bounds the first windows)
    window_seconds: float = 30.0
    nodes: list[NodeStatus] = field(default_factory=list)
    relays: list[RelayStatus] = field(default_factory=list)
    stats: ClusterStats = field(default_factory=ClusterStats)
    # (epoch seconds, completion tokens) of each job completed within the window.
    completed: deque[tuple[float, int]] = field(default_factory=deque)
    error: str | None = None

    def apply(self, event: MonitoringEvent, now: float) -> bool:
        """Fold one event in; True when the node list should be fetched again."""
        if event.kind in NODE_EVENTS:
            return True
        if event.kind == "job_dispatched":
            self._dispatched(event)
        elif event.kind == "job_finished":
            self._finished(event, now)
        return False

    def rates(self, now: float) -> tuple[float, float]:
        """(jobs/s, tokens/s) over the sliding window (shorter while the view is young)."""
        since = now - self.window_seconds
        recent = [tokens for when, tokens in self.completed if when > since]
        span = max(1.0, min(self.window_seconds, now - self.started))
        return len(recent) / span, sum(recent) / span

    def _dispatched(self, event: MonitoringEvent) -> None:
        self._update_node(event.node_id, slots_in_use=+1)
        self.stats = dataclasses.replace(
            self.stats,
            jobs_dispatched=self.stats.jobs_dispatched + 1,
            slots_busy=min(self.stats.slots_total, self.stats.slots_busy + 1),
        )

    def _finished(self, event: MonitoringEvent, now: float) -> None:
        completed = event.outcome == "completed"
        failed = event.outcome in FAILED_OUTCOMES
        tokens = event.completion_tokens
        self._update_node(
            event.node_id,
            slots_in_use=-1,
            jobs_completed=int(completed),
            jobs_failed=int(failed),
            tokens_generated=tokens,
        )
        self.stats = dataclasses.replace(
            self.stats,
            slots_busy=max(0, self.stats.slots_busy - 1),
            jobs_completed=self.stats.jobs_completed + int(completed),
            jobs_failed=self.stats.jobs_failed + int(failed),
            tokens_generated=self.stats.tokens_generated + tokens,
        )
        if completed:
            self.completed.append((now, tokens))
        while self.completed and self.completed[0][0] <= now - self.window_seconds:
            self.completed.popleft()

    def _update_node(self, node_id: str, **deltas: int) -> None:
        for index, node in enumerate(self.nodes):
            if node.node_id == node_id:
                changes = {name: getattr(node, name) + delta for name, delta in deltas.items()}
                if "slots_in_use" in changes:
                    changes["slots_in_use"] = min(node.slots, max(0, changes["slots_in_use"]))
                self.nodes[index] = dataclasses.replace(node, **changes)
                return


def render(state: StatusState, now: float) -> RenderableType:
    """The whole view at wall-clock time `now` (epoch seconds)."""
    parts: list[RenderableType] = [_header(state, now), nodes_table(state.nodes, now)]
    parts.append(totals_table(state, now))
    if state.error:
        parts.append(Text(f"! {state.error}", style="bold red"))
    return Group(*parts)


def _header(state: StatusState, now: float) -> Text:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = Text("token.place status", style="bold")
    header.append(f"  relay {state.relay}  ·  {stamp}", style="dim")
    return header


def nodes_table(nodes: list[NodeStatus], now: float) -> Table:
    table = Table(title="Compute nodes", title_justify="left", expand=False)
    for column in ("name", "id", "status", "models", "slots", "last seen", "jobs", "tokens"):
        numeric = column in ("jobs", "tokens")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric)
    for node in nodes:
        table.add_row(
            node.display_name or "-",
            node.node_id,
            _node_status(node),
            ", ".join(node.models) or "-",
            f"{node.slots_in_use}/{node.slots}",
            _ago(node.last_seen, now),
            _jobs(node),
            f"{node.tokens_generated}",
        )
    if not nodes:
        table.add_row("(no nodes)", *[""] * 7, style="dim")
    return table


def totals_table(state: StatusState, now: float) -> Table:
    """Cluster totals as label/value rows (narrow terminals keep them readable)."""
    stats = state.stats
    jobs_rate, tokens_rate = state.rates(now)
    table = Table(title="Cluster", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    rows = (
        ("workers", f"{stats.workers_online}/{stats.workers_total} online"),
        ("relays", f"{stats.federated_online}/{stats.federated_total} online"),
        ("slots busy", f"{stats.slots_busy}/{stats.slots_total}"),
        ("queued jobs", f"{stats.queued_jobs}"),
        ("models served", f"{stats.models_served}"),
        ("jobs", f"{stats.jobs_completed} done, {stats.jobs_failed} failed"),
        ("tokens generated", f"{stats.tokens_generated}"),
        (
            f"throughput (last {state.window_seconds:g}s)",
            f"{jobs_rate:.2f} jobs/s, {tokens_rate:.1f} tokens/s",
        ),
    )
    for label, value in rows:
        table.add_row(label, value)
    return table


def _node_status(node: NodeStatus) -> Text:
    if not node.connected:
        return Text("left", style="dim")
    if node.draining:
        return Text("draining", style="yellow")
    return Text("online", style="green") if node.online else Text("offline", style="red")


def _jobs(node: NodeStatus) -> str:
    failed = f" ({node.jobs_failed} failed)" if node.jobs_failed else ""
    return f"{node.jobs_completed}{failed}"


def _ago(when: datetime | None, now: float) -> str:
    if when is None:
        return "never"
    seconds = max(0, int(now - when.timestamp()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"
