"""grpc.health.v1 and server reflection: what grpcurl and load balancers see of the relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.support.network import LocalNetwork
from tokenplace.relay.server import RelayServer

NODE_SERVICE = "tokenplace.v1.NodeService"
INFERENCE_SERVICE = "tokenplace.v1.InferenceService"
HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION_SERVICE = "grpc.reflection.v1alpha.ServerReflection"
STEP_SECONDS = 5.0

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
async def health(network: LocalNetwork) -> AsyncIterator[health_pb2_grpc.HealthStub]:
    async with grpc.aio.insecure_channel(network.relay_address) as channel:
        yield health_pb2_grpc.HealthStub(channel)


@pytest.mark.parametrize("service", ["", NODE_SERVICE, INFERENCE_SERVICE])
async def test_health_check_is_serving(health: health_pb2_grpc.HealthStub, service: str) -> None:
    request = health_pb2.HealthCheckRequest(service=service)
    reply = await health.Check(request, timeout=STEP_SECONDS)
    assert reply.status == SERVING


async def test_health_goes_not_serving_once_stop_begins(
    network: LocalNetwork, health: health_pb2_grpc.HealthStub
) -> None:
    assert network.relay is not None
    watches = [
        health.Watch(health_pb2.HealthCheckRequest(service=name))
        for name in ("", NODE_SERVICE, INFERENCE_SERVICE)
    ]
    async with asyncio.timeout(STEP_SECONDS):
        assert [(await watch.read()).status for watch in watches] == [SERVING] * 3
        stopping = asyncio.create_task(network.relay.stop(grace=1))
        assert [(await watch.read()).status for watch in watches] == [NOT_SERVING] * 3
        await stopping


@dataclass
class Reflected:
    """What a client with no generated code learns from reflection alone."""

    services: list[str]
    resolved: list[str]
    list_models_path: str
    request_class: type[Any]
    response_class: type[Any]


def reflect(address: str) -> Reflected:
    """Blocking reflection client; run it in a thread, the relay shares this event loop."""
    with grpc.insecure_channel(address) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        resolved = [pool.FindServiceByName(name).full_name for name in services]
        method = pool.FindMethodByName(f"{INFERENCE_SERVICE}.ListModels")
        return Reflected(
            services=services,
            resolved=resolved,
            list_models_path=f"/{method.containing_service.full_name}/{method.name}",
            request_class=message_factory.GetMessageClass(method.input_type),
            response_class=message_factory.GetMessageClass(method.output_type),
        )


async def reflect_relay(relay: RelayServer) -> Reflected:
    async with asyncio.timeout(STEP_SECONDS):
        return await asyncio.to_thread(reflect, f"127.0.0.1:{relay.port}")


async def test_reflection_lists_and_describes_every_service(network: LocalNetwork) -> None:
    assert network.relay is not None
    reflected = await reflect_relay(network.relay)
    expected = {NODE_SERVICE, INFERENCE_SERVICE, HEALTH_SERVICE, REFLECTION_SERVICE}
    assert expected <= set(reflected.services)
    assert sorted(reflected.resolved) == sorted(reflected.services)


async def test_list_models_callable_from_reflected_descriptors_alone(
    network: LocalNetwork,
) -> None:
    assert network.relay is not None
    await network.start_node()
    reflected = await reflect_relay(network.relay)
    async with grpc.aio.insecure_channel(network.relay_address) as channel:
        list_models = channel.unary_unary(
            reflected.list_models_path,
            request_serializer=reflected.request_class.SerializeToString,
            response_deserializer=reflected.response_class.FromString,
        )
        reply = await list_models(reflected.request_class(), timeout=STEP_SECONDS)
    assert reflected.response_class.DESCRIPTOR.file.pool is not descriptor_pool.Default()
    served = {model.card.id: model.node_count for model in reply.models}
    assert served == {"echo": 1}
