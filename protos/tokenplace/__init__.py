"""token.place: a peer-to-peer network for LLM inference.

One import namespace for every part, each kept in its own top-level folder of the
repository (setup.py maps them): `tokenplace.gateway`, `tokenplace.relay`,
`tokenplace.node`, `tokenplace.e2ee`, `tokenplace.cli`, and the generated wire
contract, `tokenplace.v1`, which lives here beside its .proto files.
"""
