from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.network import LocalNetwork


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[LocalNetwork]:
    """A relay with no nodes and no gateway yet; tests add what they need."""
    net = LocalNetwork(tmp_path)
    await net.start_relay()
    try:
        yield net
    finally:
        await net.stop()


@pytest.fixture
async def echo_network(network: LocalNetwork) -> LocalNetwork:
    """Relay, one echo node and one gateway."""
    await network.start_node()
    await network.start_gateway()
    return network
