"""RelayClient: one channel to a relay, and a client for each of its services."""

from __future__ import annotations

from types import TracebackType

from tokenplace.client.accounts import AccountClient, AdminClient
from tokenplace.client.community import CommunityClient
from tokenplace.client.inference import InferenceClient
from tokenplace.client.instances import InstanceClient
from tokenplace.client.monitoring import MonitoringClient
from tokenplace.client.operator import OperatorClient
from tokenplace.client.polling import PollingClient
from tokenplace.client.rpc import open_channel
from tokenplace.client.sealed import SealedClient

DEFAULT_TIMEOUT_SECONDS = 5.0


class RelayClient:
    """`timeout_seconds` bounds every quick call (catalog, selection, accounts...);
    dispatches take their own, the job's deadline."""

    def __init__(self, address: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.address = address
        self.timeout_seconds = timeout_seconds
        self.channel = open_channel(address)
        self.inference = InferenceClient(self.channel, timeout_seconds)
        self.sealed = SealedClient(self.channel, timeout_seconds)
        self.polling = PollingClient(self.channel, timeout_seconds)
        self.operator = OperatorClient(self.channel, timeout_seconds)
        self.accounts = AccountClient(self.channel, timeout_seconds)
        self.instances = InstanceClient(self.channel, timeout_seconds)
        self.community = CommunityClient(self.channel, timeout_seconds)
        self.monitoring = MonitoringClient(self.channel, timeout_seconds, address)

    def admin(self, operator_token: str) -> AdminClient:
        """Operator account administration with `operator_token`."""
        return AdminClient(self.channel, operator_token, self.timeout_seconds)

    async def close(self) -> None:
        await self.inference.close()
        await self.channel.close()

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
