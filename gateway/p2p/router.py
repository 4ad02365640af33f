"""LocalAI's P2P API: the network's workers, federated relays, join token and counts.

Workers are compute nodes (ListNodes): `Name` is the node's display name (its id when
it gave none), `ID` its node_id, `TunnelAddress` the address the relay sees it connect
from, and `ServiceID` what it serves on the network: its model ids, comma-separated and
sorted (stable across reconnects; "tokenplace-node" for a node that lists none).
Federated nodes are the relay instances of the cluster (ListRelays): `ID` is the
relay_id, `Name` the same, `TunnelAddress` its gRPC address, `ServiceID` is
"tokenplace-relay". `isOnline` is the relay's own flag: connected and seen within the
online window (40 s by default).

Errors follow the seed: 500 when the P2P subsystem (the relay) is unavailable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse

from tokenplace.client.types import NodeStatus, RelayStatus
from tokenplace.gateway.callers import operator_token
from tokenplace.gateway.mounting import API, mount
from tokenplace.gateway.openapi import ERROR_REF, OPERATOR_SECURITY
from tokenplace.gateway.p2p.protocol import (
    OnlineCount,
    P2PNode,
    P2PNodes,
    P2PNodeStatus,
    P2PNodeStatuses,
    P2PStats,
)
from tokenplace.gateway.services import ServicesDep

router = APIRouter(prefix="/p2p", tags=["p2p"])
NODE_SERVICE_ID = "tokenplace-node"
RELAY_SERVICE_ID = "tokenplace-relay"
NEVER = datetime.fromtimestamp(0, UTC)


def attach(app: FastAPI) -> None:
    mount(app, router, API)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses`: the listed statuses plus the seed's 500 (relay unavailable).

    Spelled out as JSON (the ErrorResponse component): the token route's own media type,
    text/plain, is not its errors'.
    """
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        for status in (*statuses, 500)
    }


_DESCRIPTIONS = {
    401: "Missing or wrong operator token",
    404: "The relay admits nodes without a join token",
    500: "P2P subsystem not available (the relay cannot be reached) or internal error",
    503: "Operator actions are disabled on the relay (no operator token configured)",
}


def tunnel_address(peer: str) -> str:
    """gRPC's peer string ("ipv4:1.2.3.4:5", "ipv6:%5B::1%5D:5") as a plain host:port."""
    for scheme in ("ipv4:", "ipv6:"):
        if peer.startswith(scheme):
            return unquote(peer.removeprefix(scheme))
    return peer


def worker_fields(node: NodeStatus) -> tuple[str, str, str, str, datetime]:
    """(name, id, tunnel address, service id, last seen) of a compute node."""
    service_id = ",".join(sorted(node.models)) or NODE_SERVICE_ID
    last_seen = node.last_seen or node.connected_at or NEVER
    name = node.display_name or node.node_id
    return name, node.node_id, tunnel_address(node.peer), service_id, last_seen


def relay_fields(relay: RelayStatus) -> tuple[str, str, str, str, datetime]:
    last_seen = relay.last_seen or relay.started_at or NEVER
    return relay.relay_id, relay.relay_id, relay.address, RELAY_SERVICE_ID, last_seen


def p2p_node(fields: tuple[str, str, str, str, datetime]) -> P2PNode:
    name, node_id, address, service_id, last_seen = fields
    return P2PNode(
        Name=name, ID=node_id, TunnelAddress=address, ServiceID=service_id, LastSeen=last_seen
    )


def p2p_status(fields: tuple[str, str, str, str, datetime], online: bool) -> P2PNodeStatus:
    name, node_id, address, service_id, last_seen = fields
    return P2PNodeStatus(
        name=name,
        id=node_id,
        tunnelAddress=address,
        serviceID=service_id,
        lastSeen=last_seen,
        isOnline=online,
    )


@router.get("", response_model=P2PNodes, responses=errors())
async def list_p2p_nodes(services: ServicesDep) -> P2PNodes:
    """All worker (compute) nodes and federated nodes (relay instances)."""
    nodes = await services.relay.monitoring.list_nodes()
    relays = await services.relay.monitoring.list_relays()
    return P2PNodes(
        nodes=[p2p_node(worker_fields(node)) for node in nodes],
        federated_nodes=[p2p_node(relay_fields(relay)) for relay in relays],
    )


@router.get(
    "/token",
    response_class=PlainTextResponse,
    responses=errors(401, 404, 503),
    dependencies=OPERATOR_SECURITY,
)
async def join_token(request: Request, services: ServicesDep) -> str:
    """Operator-only: the join token compute nodes present to register, as plain text."""
    return await services.relay.monitoring.join_token(operator_token(request))


@router.get("/workers", response_model=P2PNodeStatuses, responses=errors())
async def list_workers(services: ServicesDep) -> P2PNodeStatuses:
    """Worker (compute) nodes with their online status."""
    nodes = await services.relay.monitoring.list_nodes()
    return P2PNodeStatuses(nodes=[p2p_status(worker_fields(n), n.online) for n in nodes])


@router.get("/federation", response_model=P2PNodeStatuses, responses=errors())
async def list_federation(services: ServicesDep) -> P2PNodeStatuses:
    """Federated nodes (relay instances) with their online status."""
    relays = await services.relay.monitoring.list_relays()
    return P2PNodeStatuses(nodes=[p2p_status(relay_fields(r), r.online) for r in relays])


@router.get("/stats", response_model=P2PStats, responses=errors())
async def p2p_stats(services: ServicesDep) -> P2PStats:
    """Online and total counts of worker and federated nodes."""
    stats = await services.relay.monitoring.cluster_stats()
    return P2PStats(
        workers=OnlineCount(online=stats.workers_online, total=stats.workers_total),
        federated=OnlineCount(online=stats.federated_online, total=stats.federated_total),
    )
