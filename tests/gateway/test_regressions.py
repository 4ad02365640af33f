"""Regressions schemathesis found against the served OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.network import LocalNetwork
from tokenplace.e2ee import generate_private_key, public_key_b64

REGISTER = "/api/v1/relay/servers/register"
MODELS = [{"id": "echo"}]


@pytest.fixture
async def http(network: LocalNetwork) -> AsyncIterator[httpx.AsyncClient]:
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    "server_public_key",
    ["0", "not base64!", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----", "QUJD"],
    ids=["one char", "not base64", "bad pem", "base64 of junk"],
)
async def test_registering_with_a_key_that_is_not_rsa_is_400_not_502(
    http: httpx.AsyncClient, server_public_key: str
) -> None:
    # Was a 502 upstream_error: the relay failed to fingerprint the key it should seal to.
    response = await http.post(
        REGISTER, json={"server_public_key": server_public_key, "models": MODELS}
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", "server_public_key")


async def test_registering_with_an_rsa_key_still_works(http: httpx.AsyncClient) -> None:
    key = public_key_b64(generate_private_key())

    response = await http.post(REGISTER, json={"server_public_key": key, "models": MODELS})

    assert response.status_code == 200, response.text
    assert response.json()["credential"] is not None


async def test_envelope_fields_are_canonical_base64_as_documented(
    http: httpx.AsyncClient,
) -> None:
    # The document gives envelope fields a base64 pattern; the check now agrees with it
    # (b64decode alone accepted "a+a9==", which the pattern rejects).
    spec = (await http.get("/openapi.json")).json()
    pattern = spec["components"]["schemas"]["SealedRequestIn"]["properties"]["ciphertext"]
    body = {
        "server_public_key": public_key_b64(generate_private_key()),
        "client_public_key": public_key_b64(generate_private_key()),
        "request_id": "r-1",
        "cancel_token": "t" * 16,
        "ciphertext": "a+a9==",
        "cipherkey": "AAAA",
        "iv": "AAAA",
    }

    response = await http.post("/api/v1/relay/requests", json=body)

    assert "pattern" in pattern
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "ciphertext"
