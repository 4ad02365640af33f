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


@pytest.fixture(scope="session")
def xdg_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_CACHE_HOME for the whole session, never the user's ~/.cache.

    The ctransformers engine keeps its rewritten copy of a model there (~2.5 s to
    make): engines built in process and `tokenplace node` subprocesses share it.
    """
    return tmp_path_factory.mktemp("xdg-cache")
