"""AccountService (a caller's own account, by API key) and AdminService (operators)."""

from __future__ import annotations

import grpc

from tokenplace.relay.accounts.admission import caller_from_metadata
from tokenplace.relay.accounts.billing import Billing
from tokenplace.relay.accounts.keys import Account, Accounts, ApiKey, InvalidApiKey
from tokenplace.relay.operator_auth import OperatorAuth
from tokenplace.relay.services import convert
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import account_pb2, account_pb2_grpc


async def authenticated_caller(
    accounts: Accounts, context: grpc.aio.ServicerContext
) -> tuple[Account, ApiKey]:
    """The account and key whose API key the call carries, or InvalidApiKey."""
    caller = caller_from_metadata(context.invocation_metadata(), default_reserve=0)
    if not caller.api_key:
        raise InvalidApiKey("send your API key: Authorization: Bearer tp_live_…")
    return await accounts.authenticate(caller.api_key)


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    async def _caller(self, context: grpc.aio.ServicerContext) -> tuple[Account, ApiKey]:
        return await authenticated_caller(self.accounts, context)

    @translate_errors
    async def WhoAmI(
        self,
        request: account_pb2.WhoAmIRequest,
        context: grpc.aio.ServicerContext[account_pb2.WhoAmIRequest, account_pb2.WhoAmIResponse],
    ) -> account_pb2.WhoAmIResponse:
        account, key = await self._caller(context)
        return account_pb2.WhoAmIResponse(
            account_id=account.id, key_id=key.id, key_prefix=key.prefix
        )

    @translate_errors
    async def GetAccount(
        self,
        request: account_pb2.GetAccountRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.GetAccountRequest, account_pb2.GetAccountResponse
        ],
    ) -> account_pb2.GetAccountResponse:
        account, _ = await self._caller(context)
        return account_pb2.GetAccountResponse(
            account=convert.account_to_pb(await self.accounts.me(account.id))
        )

    @translate_errors
    async def ListKeys(
        self,
        request: account_pb2.ListKeysRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.ListKeysRequest, account_pb2.ListKeysResponse
        ],
    ) -> account_pb2.ListKeysResponse:
        account, _ = await self._caller(context)
        keys = await self.accounts.list_keys(account.id)
        return account_pb2.ListKeysResponse(keys=[convert.api_key_to_pb(key) for key in keys])

    @translate_errors
    async def CreateKey(
        self,
        request: account_pb2.CreateKeyRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.CreateKeyRequest, account_pb2.CreateKeyResponse
        ],
    ) -> account_pb2.CreateKeyResponse:
        account, _ = await self._caller(context)
        minted = await self.accounts.mint_key(account.id, request.name)
        return account_pb2.CreateKeyResponse(
            key=convert.api_key_to_pb(minted.key), secret=minted.secret
        )

    @translate_errors
    async def RevokeKey(
        self,
        request: account_pb2.RevokeKeyRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.RevokeKeyRequest, account_pb2.RevokeKeyResponse
        ],
    ) -> account_pb2.RevokeKeyResponse:
        account, _ = await self._caller(context)
        key = await self.accounts.revoke_key(account.id, request.key_id)
        return account_pb2.RevokeKeyResponse(key=convert.api_key_to_pb(key))


class AdminServicer(account_pb2_grpc.AdminServiceServicer):
    def __init__(self, auth: OperatorAuth, accounts: Accounts, billing: Billing) -> None:
        self.auth = auth
        self.accounts = accounts
        self.billing = billing

    @translate_errors
    async def CreateAccount(
        self,
        request: account_pb2.CreateAccountRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.CreateAccountRequest, account_pb2.CreateAccountResponse
        ],
    ) -> account_pb2.CreateAccountResponse:
        self.auth.require(context)
        account = await self.accounts.create_account(request.name)
        return account_pb2.CreateAccountResponse(account=convert.account_to_pb(account))

    @translate_errors
    async def GrantCredits(
        self,
        request: account_pb2.GrantCreditsRequest,
        context: grpc.aio.ServicerContext[
            account_pb2.GrantCreditsRequest, account_pb2.GrantCreditsResponse
        ],
    ) -> account_pb2.GrantCreditsResponse:
        self.auth.require(context)
        await self.billing.grant(request.account_id, request.tokens)
        account = await self.accounts.me(request.account_id)
        return account_pb2.GrantCreditsResponse(account=convert.account_to_pb(account))

    @translate_errors
    async def MintKey(
        self,
        request: account_pb2.MintKeyRequest,
        context: grpc.aio.ServicerContext[account_pb2.MintKeyRequest, account_pb2.MintKeyResponse],
    ) -> account_pb2.MintKeyResponse:
        self.auth.require(context)
        minted = await self.accounts.mint_key(request.account_id, request.name)
        return account_pb2.MintKeyResponse(
            key=convert.api_key_to_pb(minted.key), secret=minted.secret
        )
