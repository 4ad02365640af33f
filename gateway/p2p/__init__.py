"""LocalAI's P2P API: the network's workers, federated relays, join token and counts."""
