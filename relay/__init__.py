"""The relay: token.place's gRPC control plane (node registry, dispatch, monitoring)."""
