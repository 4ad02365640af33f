"""Registry: who is online, what they serve, and which node gets the next job."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.relay.errors import ModelNotFound, NodeLost, NodeNotFound, NoNodeAvailable
from tokenplace.relay.registry import ModelCard, NodeSession, Registry
from tokenplace.relay.slots import SlotPool

TIMEOUT = 40.0


@pytest.fixture(scope="module")
def key_a() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def key_b() -> rsa.RSAPrivateKey:
    return generate_private_key()


def session(
    node_id: str, models: tuple[str, ...] = ("echo",), slots: int = 2, active: int = 0
) -> NodeSession:
    """A connected node; call inside a running loop (its outbound queue needs one)."""
    pool = SlotPool(slots=slots, max_waiters=4)
    pool.active = active
    return NodeSession(
        node_id=node_id,
        public_key=f"key-of-{node_id}",
        models={m: ModelCard(id=m, owned_by="tester", created=1) for m in models},
        slot_pool=pool,
        inventory={},
        display_name=node_id,
        peer="ipv4:127.0.0.1:1",
    )


def registry_with(*sessions: NodeSession) -> Registry:
    registry = Registry(node_timeout_seconds=TIMEOUT)
    for node in sessions:
        registry.add(node)
    return registry


# --- selection -----------------------------------------------------------------------------


async def test_selects_least_loaded_node() -> None:
    busy, idle = session("busy", active=1), session("idle", active=0)
    registry = registry_with(busy, idle)
    assert registry.select("echo") is idle


async def test_prefers_node_with_free_slots() -> None:
    full = session("full", slots=1, active=1)
    roomy = session("roomy", slots=4, active=3)
    registry = registry_with(full, roomy)
    assert registry.select("echo") is roomy


async def test_when_all_busy_the_shortest_queue_takes_the_job() -> None:
    no_queue, queued = session("no-queue", slots=2, active=2), session("queued", slots=1, active=1)
    waiter = asyncio.create_task(queued.slot_pool.acquire())
    await asyncio.sleep(0)
    assert queued.slot_pool.waiting == 1
    assert registry_with(queued, no_queue).select("echo") is no_queue
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)


async def test_equal_load_rotates_between_nodes() -> None:
    registry = registry_with(session("one"), session("two"))
    picks = set()
    for _ in range(4):
        chosen = registry.select("echo")
        registry.mark_dispatched(chosen)  # as the dispatcher does when it sends the job
        picks.add(chosen.node_id)
    assert picks == {"one", "two"}


async def test_only_nodes_serving_the_model_are_selected() -> None:
    registry = registry_with(session("llama", models=("llama",)), session("echo", active=1))
    assert registry.select("echo").node_id == "echo"


async def test_no_nodes_online_is_no_node_available() -> None:
    with pytest.raises(NoNodeAvailable):
        registry_with().select("echo")


async def test_unknown_model_is_model_not_found() -> None:
    with pytest.raises(ModelNotFound):
        registry_with(session("a")).select("gpt-9")


async def test_all_serving_nodes_excluded_is_no_node_available() -> None:
    registry = registry_with(session("a"), session("b"), session("c", models=("other",)))
    with pytest.raises(NoNodeAvailable):
        registry.select("echo", exclude=["a", "b"])


async def test_exclude_skips_a_failed_node() -> None:
    registry = registry_with(session("a"), session("b", active=1))
    assert registry.select("echo", exclude=["a"]).node_id == "b"


# --- liveness ------------------------------------------------------------------------------


async def test_silent_node_is_offline_and_not_selected() -> None:
    stale = session("stale")
    stale.last_seen = time.monotonic() - TIMEOUT - 1
    registry = registry_with(stale)
    assert registry.online() == []
    with pytest.raises(NoNodeAvailable):
        registry.select("echo")


async def test_silent_node_is_passed_over_for_a_live_one() -> None:
    stale, live = session("stale"), session("live", active=1)
    stale.last_seen = time.monotonic() - TIMEOUT - 1
    assert registry_with(stale, live).select("echo") is live


async def test_touch_brings_a_silent_node_back() -> None:
    node = session("node")
    node.last_seen = time.monotonic() - TIMEOUT - 1
    node.touch()
    assert registry_with(node).online() == [node]


async def test_draining_node_is_not_selected() -> None:
    draining = session("draining")
    draining.draining = True
    with pytest.raises(NoNodeAvailable):
        registry_with(draining).select("echo")


# --- catalog -------------------------------------------------------------------------------


async def test_catalog_unions_models_of_online_nodes() -> None:
    a, b = session("a", models=("echo", "llama")), session("b", models=("echo", "qwen"))
    stale = session("stale", models=("ghost",))
    stale.last_seen = time.monotonic() - TIMEOUT - 1
    catalog = registry_with(a, b, stale).catalog()
    assert set(catalog) == {"echo", "llama", "qwen"}
    assert catalog["echo"][1] == [a, b]
    assert catalog["llama"] == (ModelCard("llama", "tester", 1), [a])


# --- sessions ------------------------------------------------------------------------------


async def test_reconnect_replaces_the_old_session() -> None:
    old, new = session("node"), session("node")
    registry = registry_with()
    assert registry.add(old) is None
    assert registry.add(new) is old
    assert registry.get("node") is new
    assert registry.all() == [new]


async def test_removing_the_old_session_keeps_the_new_one() -> None:
    old, new = session("node"), session("node")
    registry = registry_with(old, new)
    assert registry.remove(old) is False
    assert registry.get("node") is new
    assert registry.remove(new) is True
    with pytest.raises(NodeNotFound):
        registry.get("node")


async def test_remove_fails_jobs_queued_on_the_node() -> None:
    node = session("node", slots=1, active=1)
    registry = registry_with(node)
    waiter = asyncio.create_task(node.slot_pool.acquire())
    await asyncio.sleep(0)
    assert node.slot_pool.waiting == 1
    registry.remove(node)
    with pytest.raises(NodeLost):
        await asyncio.wait_for(waiter, timeout=1)


# --- node ids ------------------------------------------------------------------------------


def test_node_id_is_stable_for_a_key(key_a: rsa.RSAPrivateKey) -> None:
    wire = public_key_b64(key_a)
    pem = base64.b64decode(wire).decode()
    assert Registry.node_id_for(wire) == Registry.node_id_for(wire)
    assert Registry.node_id_for(wire) == Registry.node_id_for(pem)
    assert Registry.node_id_for(wire).startswith("node-")


def test_node_ids_differ_across_keys(key_a: rsa.RSAPrivateKey, key_b: rsa.RSAPrivateKey) -> None:
    assert Registry.node_id_for(public_key_b64(key_a)) != Registry.node_id_for(
        public_key_b64(key_b)
    )


# --- change notifications ------------------------------------------------------------------


async def test_wait_until_wakes_when_a_node_joins() -> None:
    registry = registry_with()
    joined = asyncio.create_task(registry.wait_until(lambda: len(registry.online()) == 1))
    await asyncio.sleep(0)
    assert not joined.done()
    registry.add(session("a"))
    await asyncio.wait_for(joined, timeout=2)


async def test_wait_until_wakes_when_a_node_leaves() -> None:
    node = session("a")
    registry = registry_with(node)
    left = asyncio.create_task(registry.wait_until(lambda: not registry.all()))
    await asyncio.sleep(0)
    assert not left.done()
    registry.remove(node)
    await asyncio.wait_for(left, timeout=2)


async def test_wait_until_returns_at_once_when_already_true() -> None:
    registry = registry_with(session("a"))
    await asyncio.wait_for(registry.wait_until(lambda: len(registry.all()) == 1), timeout=2)
