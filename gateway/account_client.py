"""Clients for the relay's AccountService (callers' own keys) and AdminService (operators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2

from tokenplace.gateway.operator import operator_metadata
from tokenplace.gateway.relay_client import Metadata, call
from tokenplace.v1 import account_pb2, account_pb2_grpc


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    name: str
    balance_tokens: int
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyView:
    id: str
    prefix: str
    name: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _time(stamp: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


def account_view(account: account_pb2.Account) -> AccountView:
    return AccountView(
        account.id,
        account.name,
        account.balance_tokens,
        _time(account.created_at, account.HasField("created_at")),
    )


def key_view(key: account_pb2.ApiKey) -> KeyView:
    return KeyView(
        key.id,
        key.prefix,
        key.name,
        _time(key.created_at, key.HasField("created_at")),
        _time(key.revoked_at, key.HasField("revoked_at")),
        _time(key.last_used_at, key.HasField("last_used_at")),
    )


class AccountClient:
    """Calls made with the caller's own API key (authorization metadata)."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = account_pb2_grpc.AccountServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def whoami(self, metadata: Metadata) -> account_pb2.WhoAmIResponse:
        return await call(
            self._stub.WhoAmI,
            account_pb2.WhoAmIRequest(),
            metadata=metadata,
            timeout=self.timeout_seconds,
        )

    async def me(self, metadata: Metadata) -> AccountView:
        reply = await call(
            self._stub.GetAccount,
            account_pb2.GetAccountRequest(),
            metadata=metadata,
            timeout=self.timeout_seconds,
        )
        return account_view(reply.account)

    async def keys(self, metadata: Metadata) -> list[KeyView]:
        reply = await call(
            self._stub.ListKeys,
            account_pb2.ListKeysRequest(),
            metadata=metadata,
            timeout=self.timeout_seconds,
        )
        return [key_view(key) for key in reply.keys]

    async def create_key(self, metadata: Metadata, name: str) -> tuple[KeyView, str]:
        reply = await call(
            self._stub.CreateKey,
            account_pb2.CreateKeyRequest(name=name),
            metadata=metadata,
            timeout=self.timeout_seconds,
        )
        return key_view(reply.key), reply.secret

    async def revoke_key(self, metadata: Metadata, key_id: str) -> KeyView:
        reply = await call(
            self._stub.RevokeKey,
            account_pb2.RevokeKeyRequest(key_id=key_id),
            metadata=metadata,
            timeout=self.timeout_seconds,
        )
        return key_view(reply.key)


class AdminClient:
    """Operator account administration (the `tokenplace admin` commands)."""

    def __init__(
        self, channel: grpc.aio.Channel, operator_token: str, timeout_seconds: float = 10.0
    ) -> None:
        self._stub = account_pb2_grpc.AdminServiceStub(channel)
        self._metadata = operator_metadata(operator_token)
        self.timeout_seconds = timeout_seconds

    async def create_account(self, name: str) -> AccountView:
        reply = await call(
            self._stub.CreateAccount,
            account_pb2.CreateAccountRequest(name=name),
            metadata=self._metadata,
            timeout=self.timeout_seconds,
        )
        return account_view(reply.account)

    async def grant(self, account_id: str, tokens: int) -> AccountView:
        reply = await call(
            self._stub.GrantCredits,
            account_pb2.GrantCreditsRequest(account_id=account_id, tokens=tokens),
            metadata=self._metadata,
            timeout=self.timeout_seconds,
        )
        return account_view(reply.account)

    async def mint_key(self, account_id: str, name: str) -> tuple[KeyView, str]:
        reply = await call(
            self._stub.MintKey,
            account_pb2.MintKeyRequest(account_id=account_id, name=name),
            metadata=self._metadata,
            timeout=self.timeout_seconds,
        )
        return key_view(reply.key), reply.secret
