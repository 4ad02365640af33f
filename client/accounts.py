"""AccountService (a caller's own account, with its API key) and AdminService
(operators: the `tokenplace admin` commands)."""

from __future__ import annotations

import grpc

from tokenplace.client import convert
from tokenplace.client.metadata import Metadata, operator_metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import Account, ApiKey, WhoAmI
from tokenplace.v1 import account_pb2, account_pb2_grpc


class AccountClient:
    """Calls made with the caller's own API key (authorization metadata)."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def whoami(self, metadata: Metadata) -> WhoAmI:
        request = account_pb2.WhoAmIRequest()
        reply = await call(
            self._stub.WhoAmI, request, metadata=metadata, timeout_seconds=self.timeout_seconds
        )
        return WhoAmI(reply.account_id, reply.key_id, reply.key_prefix)

    async def me(self, metadata: Metadata) -> Account:
        request = account_pb2.GetAccountRequest()
        reply = await call(
            self._stub.GetAccount, request, metadata=metadata, timeout_seconds=self.timeout_seconds
        )
        return convert.account(reply.account)

    async def keys(self, metadata: Metadata) -> list[ApiKey]:
        request = account_pb2.ListKeysRequest()
        reply = await call(
            self._stub.ListKeys, request, metadata=metadata, timeout_seconds=self.timeout_seconds
        )
        return [convert.api_key(key) for key in reply.keys]

    async def create_key(self, metadata: Metadata, name: str) -> tuple[ApiKey, str]:
        """The new key and its secret (shown this once)."""
        request = account_pb2.CreateKeyRequest(name=name)
        reply = await call(
            self._stub.CreateKey, request, metadata=metadata, timeout_seconds=self.timeout_seconds
        )
        return convert.api_key(reply.key), reply.secret

    async def revoke_key(self, metadata: Metadata, key_id: str) -> ApiKey:
        request = account_pb2.RevokeKeyRequest(key_id=key_id)
        reply = await call(
            self._stub.RevokeKey, request, metadata=metadata, timeout_seconds=self.timeout_seconds
        )
        return convert.api_key(reply.key)


class AdminClient:
    """Operator account administration, with the relay's operator token."""

    def __init__(self, channel: grpc.aio.Channel, operator_token: str, timeout_seconds: float):
        self._stub = account_pb2_grpc.AdminServiceStub(channel)
        self._metadata = operator_metadata(operator_token)
        self.timeout_seconds = timeout_seconds

    async def create_account(self, name: str) -> Account:
        """Raises RelayCallError(ACCOUNT_EXISTS) when the name is taken."""
        request = account_pb2.CreateAccountRequest(name=name)
        reply = await call(
            self._stub.CreateAccount,
            request,
            metadata=self._metadata,
            timeout_seconds=self.timeout_seconds,
        )
        return convert.account(reply.account)

    async def grant(self, account_id: str, tokens: int) -> Account:
        request = account_pb2.GrantCreditsRequest(account_id=account_id, tokens=tokens)
        reply = await call(
            self._stub.GrantCredits,
            request,
            metadata=self._metadata,
            timeout_seconds=self.timeout_seconds,
        )
        return convert.account(reply.account)

    async def mint_key(self, account_id: str, name: str) -> tuple[ApiKey, str]:
        """The new key and its secret (shown this once)."""
        request = account_pb2.MintKeyRequest(account_id=account_id, name=name)
        reply = await call(
            self._stub.MintKey,
            request,
            metadata=self._metadata,
            timeout_seconds=self.timeout_seconds,
        )
        return convert.api_key(reply.key), reply.secret
