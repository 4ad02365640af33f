"""Nodes started with an instance token register as that instance and earn for its owner."""

from __future__ import annotations

import pytest

from tests.e2e.test_keys_and_billing import chat, keyed_network
from tokenplace.node.agent import RegistrationRejected


async def test_instance_node_fills_inventory_and_its_owner_earns(tmp_path) -> None:
    async with keyed_network(tmp_path, with_node=False) as keyed:
        relay = keyed.net.relay
        assert relay is not None
        owner_id, _ = await keyed.account_with_key("operator-olga", 0)
        created = await relay.instances.create_instance(owner_id, "olga-box")
        node = await keyed.net.start_node(instance_token=created.token)
        session = relay.registry.get(node.agent.node_id or "")
        assert session.owner_account_id == owner_id
        instance = await relay.instances.get_instance(owner_id, created.instance.id)
        assert instance.status == "online"
        units = await relay.inventory.list_processing_units(owner_id, instance.id)
        software = await relay.inventory.list_software(owner_id, instance.id)
        assert units[0].kind == "cpu" and units[0].count >= 1
        assert {s.name for s in software} >= {"echo", "tokenplace-node"}

        _, caller_key = await keyed.account_with_key("caller-carl", 10_000)
        reply = await chat(keyed.sdk(caller_key))
        await keyed.settled()
        assert reply.usage is not None
        earned = (await relay.accounts.me(owner_id)).balance_tokens
        assert earned == reply.usage.total_tokens


async def test_wrong_instance_token_stops_the_node(tmp_path) -> None:
    async with keyed_network(tmp_path, with_node=False) as keyed:
        with pytest.raises(RegistrationRejected, match="instance"):
            await keyed.net.start_node(instance_token="tpi_wrong_token")
        assert keyed.net.relay is not None and keyed.net.relay.registry.all() == []
