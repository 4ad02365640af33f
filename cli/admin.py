"""`tokenplace admin …`: operators create accounts, grant credits and mint keys.

There is no external sign-in service here: accounts are made by the operator,
who hands the minted key to its owner. Talks to the relay's AdminService with
the operator token (TOKENPLACE_OPERATOR_TOKEN or --operator-token).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import Any

import grpc

from tokenplace.client.accounts import AdminClient
from tokenplace.client.errors import RelayCallError
from tokenplace.client.relay import RelayClient

ADMIN_TIMEOUT_SECONDS = 10.0
# What a failed call means to the operator, by its gRPC code.
PROBLEMS = {
    grpc.StatusCode.ALREADY_EXISTS: "conflict",
    grpc.StatusCode.NOT_FOUND: "not found",
    grpc.StatusCode.UNAUTHENTICATED: "not authorized",
    grpc.StatusCode.FAILED_PRECONDITION: "not possible now",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
    grpc.StatusCode.UNAVAILABLE: "relay unavailable",
}


def add_admin_parser(commands: Any) -> None:
    admin = commands.add_parser("admin", help="operator account administration")
    admin.add_argument("--relay", default=os.environ.get("TOKENPLACE_RELAY", "127.0.0.1:50051"))
    admin.add_argument("--operator-token", default=os.environ.get("TOKENPLACE_OPERATOR_TOKEN"))
    actions = admin.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create-account", help="create an account (balance 0)")
    create.add_argument("name")
    grant = actions.add_parser("grant", help="add tokens to an account's balance")
    grant.add_argument("account_id")
    grant.add_argument("tokens", type=int)
    mint = actions.add_parser("mint-key", help="mint an API key (the secret is shown once)")
    mint.add_argument("account_id")
    mint.add_argument("--name", default="")


async def run_admin(args: argparse.Namespace) -> int:
    if not args.operator_token:
        print(
            "tokenplace admin: set TOKENPLACE_OPERATOR_TOKEN (or --operator-token)", file=sys.stderr
        )
        return 2
    async with RelayClient(args.relay, ADMIN_TIMEOUT_SECONDS) as relay:
        try:
            result = await _act(relay.admin(args.operator_token), args)
        except RelayCallError as error:
            print(f"tokenplace admin: {describe(error)}", file=sys.stderr)
            return 1
    print(json.dumps(result, default=str, indent=2))
    return 0


def describe(error: RelayCallError) -> str:
    """ "conflict: an account named 'alice' exists already (ACCOUNT_EXISTS)"."""
    problem = PROBLEMS.get(error.code, "failed")
    reason = f" ({error.reason_name})" if error.reason else ""
    return f"{problem}: {error.message}{reason}"


async def _act(client: AdminClient, args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "create-account":
        return asdict(await client.create_account(args.name))
    if args.action == "grant":
        return asdict(await client.grant(args.account_id, args.tokens))
    key, secret = await client.mint_key(args.account_id, args.name)
    return {"key": asdict(key), "secret": secret}
