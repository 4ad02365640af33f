"""Polling nodes: compute nodes that reach the network over HTTP through a gateway
(the relay's PollingNodeService), instead of holding a gRPC stream."""
