"""Response models of LocalAI's P2P API, with its field names and casing exactly.

`/api/p2p` uses upper-camel node fields (`Name`, `ID`, `TunnelAddress`, `ServiceID`,
`LastSeen`); `/api/p2p/workers` and `/api/p2p/federation` use lower camel plus
`isOnline`. Timestamps serialize as ISO 8601 with the UTC offset ("...Z").
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class P2PNode(BaseModel):
    Name: str = Field(description="Node name")
    ID: str = Field(description="Unique node identifier")
    TunnelAddress: str = Field(description="Network address the relay sees the node at")
    ServiceID: str = Field(description="What the node serves on the network")
    LastSeen: datetime = Field(description="ISO 8601 timestamp of the last heartbeat")


class P2PNodes(BaseModel):
    nodes: list[P2PNode] = Field(description="Worker (compute) nodes")
    federated_nodes: list[P2PNode] = Field(description="Federated nodes (relay instances)")


class P2PNodeStatus(BaseModel):
    name: str
    id: str
    tunnelAddress: str
    serviceID: str
    lastSeen: datetime
    isOnline: bool = Field(description="Connected and seen within the online window (40 s)")


class P2PNodeStatuses(BaseModel):
    nodes: list[P2PNodeStatus]


class OnlineCount(BaseModel):
    online: int
    total: int


class P2PStats(BaseModel):
    workers: OnlineCount
    federated: OnlineCount
