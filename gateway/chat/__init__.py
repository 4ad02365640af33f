"""Chat and text completions: plaintext mode (the gateway seals to a node for the
caller), encrypted mode (the caller seals to the gateway), sealed requests forwarded
to a node, and async jobs. Read top to bottom: router → encrypted, service, jobs →
the relay's client (`tokenplace.client`)."""
