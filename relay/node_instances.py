"""Nodes started with an instance token register as that Token Router instance.

The relay links the session to the instance (its owner earns credits for the
tokens the node serves), fills in the instance's hardware and software
inventory from what the node reported, and tracks it online and offline.
"""

from __future__ import annotations

import logging
from typing import Any

from tokenplace.relay.instances import Instance, Instances
from tokenplace.relay.inventory import Inventory, ProcessingUnitSpec, SoftwareSpec
from tokenplace.relay.registry import NodeSession

log = logging.getLogger(__name__)


class NodeInstances:
    def __init__(self, instances: Instances, inventory: Inventory) -> None:
        self.instances = instances
        self.inventory = inventory

    async def resolve(self, token: str) -> Instance:
        """The instance for an instance token (InvalidInstanceToken otherwise)."""
        return await self.instances.instance_for_token(token)

    async def joined(self, session: NodeSession, instance: Instance) -> None:
        session.owner_account_id = instance.account_id
        session.instance_id = instance.id
        units, software = inventory_specs(session.inventory)
        await self.inventory.replace_inventory(instance.id, units, software)
        await self.instances.set_status(instance.id, "online")
        log.info(
            "node registered as instance",
            extra={"node_id": session.node_id, "instance_id": instance.id},
        )

    async def left(self, session: NodeSession) -> None:
        if session.instance_id is not None:
            await self.instances.set_status(session.instance_id, "offline")


def inventory_specs(
    inventory: dict[str, Any],
) -> tuple[list[ProcessingUnitSpec], list[SoftwareSpec]]:
    units = [
        ProcessingUnitSpec(
            kind="cpu",
            model=str(inventory.get("cpu") or "unknown")[:200],
            count=int(inventory.get("cpu_count") or 1),
            memory_bytes=int(inventory.get("memory_bytes") or 0) or None,
        )
    ]
    software = [
        SoftwareSpec(name=str(name)[:200], version=str(version)[:100])
        for name, version in (
            (inventory.get("engine"), inventory.get("engine_version")),
            ("tokenplace-node", inventory.get("agent_version")),
        )
        if name and version
    ]
    return units, software
