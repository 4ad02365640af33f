"""A client with no generated code finds MonitoringService by reflection and calls it.

Deliberately imports nothing from tokenplace.v1: every descriptor comes from the
relay's reflection service, as it would for grpcurl or a dashboard in another language.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.support.network import LocalNetwork
from tokenplace.node.engines.echo import EchoEngine

MONITORING = "tokenplace.v1.MonitoringService"


def call_by_reflection(address: str, methods: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Blocking: list services, then call each MonitoringService method with an empty request."""
    with grpc.insecure_channel(address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        service = pool.FindServiceByName(MONITORING)
        replies: dict[str, Any] = {}
        for name in methods:
            method = service.FindMethodByName(name)
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            rpc = channel.unary_unary(
                f"/{service.full_name}/{method.name}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            reply = rpc(request_class(), timeout=5)
            replies[name] = json_format.MessageToDict(reply)
        return services, replies


async def test_reflection_client_lists_nodes_and_cluster_stats(network: LocalNetwork) -> None:
    node = await network.start_node(EchoEngine(slots=2, model_id="echo-reflected"))
    services, replies = await asyncio.to_thread(
        call_by_reflection, network.relay_address, ["ListNodes", "GetClusterStats", "ListRelays"]
    )
    assert MONITORING in services
    [listed] = replies["ListNodes"]["nodes"]
    assert listed["nodeId"] == node.agent.node_id
    assert listed["models"] == ["echo-reflected"] and listed["slots"] == 2
    assert listed["online"] is True and listed["connected"] is True
    assert replies["ListNodes"]["onlineWindow"] == "40s"
    stats = replies["GetClusterStats"]["stats"]
    assert (stats["workersOnline"], stats["workersTotal"], stats["slotsTotal"]) == (1, 1, 2)
    assert stats["federatedOnline"] == stats["federatedTotal"] == 1
    [relay] = replies["ListRelays"]["relays"]
    assert relay["address"] == network.relay_address and relay["online"] is True
