"""The relay's client library and the contract constants, shared by the gateway and
the `tokenplace` CLI (and read by the relay, which speaks the other end).

`RelayClient(address)` (in `tokenplace.client.relay`) opens one channel and offers a
client per relay service. Protobuf stops here: callers get the dataclasses of
`tokenplace.client.types`, and a failed call raises `RelayCallError` with the relay's
`ErrorReason` (`tokenplace.client.errors`). Metadata keys are in
`tokenplace.client.metadata`.
"""
