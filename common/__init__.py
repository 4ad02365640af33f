"""Small helpers every process shares: the data directory, protobuf time values.

Nothing here depends on more than the standard library and protobuf, so the node,
the relay, the gateway and the CLI may all import it without pulling in each other.
"""
