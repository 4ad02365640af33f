"""Thin gRPC servicers: convert wire types at the edge, call domain code."""
