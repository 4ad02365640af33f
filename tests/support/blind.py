"""HTTP helpers for relay-blind clients in tests."""

from __future__ import annotations

import asyncio

import httpx

# The relay-blind protocol is HTTP polling: a client waits between polls by design.
POLL_INTERVAL_SECONDS = 0.02


async def retrieve_until_done(
    http: httpx.AsyncClient, client_public_key: str, request_id: str, limit_seconds: float = 10
) -> httpx.Response:
    """Poll /relay/responses/retrieve until it stops answering 202 (pending)."""
    body = {"client_public_key": client_public_key, "request_id": request_id}
    async with asyncio.timeout(limit_seconds):
        while True:
            reply = await http.post("/api/v1/relay/responses/retrieve", json=body)
            if reply.status_code != 202:
                return reply
            assert reply.json() == {"status": "pending", "request_id": request_id}
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
