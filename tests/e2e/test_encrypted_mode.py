"""Encrypted request mode of the API v1 seed: a client with its own key pair."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.network import LocalNetwork
from tokenplace.e2ee import Envelope, generate_private_key, open_json, public_key_b64, seal_json
from tokenplace.e2ee.session import Opener, Sealer


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture
async def http(echo_network: LocalNetwork):
    async with httpx.AsyncClient(base_url=echo_network.gateways[0].base_url, timeout=10) as client:
        yield client


async def gateway_key(http: httpx.AsyncClient) -> str:
    return (await http.get("/api/v1/public-key")).json()["public_key"]


async def sealed_chat(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey, messages: Any, **extra: Any
) -> httpx.Response:
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": public_key_b64(client_key),
        "messages": seal_json(messages, await gateway_key(http)).to_json(),
        **extra,
    }
    return await http.post("/api/v1/chat/completions", json=body)


async def test_round_trip_only_the_client_can_open(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    response = await sealed_chat(
        http, client_key, [{"role": "user", "content": "secret plans"}], max_tokens=3
    )
    assert response.status_code == 200
    body = response.json()
    assert body["encrypted"] is True and body["data"]["encrypted"] is True
    assert set(body["data"]) == {"encrypted", "ciphertext", "cipherkey", "iv"}
    assert "secret" not in response.text
    completion = open_json(Envelope.from_json(body["data"]), client_key)
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "echo: secret plans"
    assert completion["usage"]["completion_tokens"] == 3
    with pytest.raises(ValueError):
        open_json(Envelope.from_json(body["data"]), generate_private_key())


async def test_a_client_keeping_a_session_costs_no_rsa_per_answer(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    """The gateway seals answers to a client through one wrapped key, so a client that
    remembers unwrapped keys opens every answer after the first with AES alone."""
    sealer, opener = Sealer(), Opener(client_key)
    server_key = await gateway_key(http)
    answers = []
    for word in ("first", "second"):
        body = {
            "model": "echo",
            "encrypted": True,
            "client_public_key": public_key_b64(client_key),
            "messages": sealer.seal_json([{"role": "user", "content": word}], server_key).to_json(),
        }
        response = await http.post("/v1/chat/completions", json=body)
        assert response.status_code == 200
        answers.append(Envelope.from_json(response.json()["data"]))
    assert answers[0].cipherkey == answers[1].cipherkey
    assert answers[0].iv != answers[1].iv
    contents = [opener.open_json(a)["choices"][0]["message"]["content"] for a in answers]
    assert contents == ["echo: first", "echo: second"]


async def test_raw_pem_client_key_is_accepted(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    import base64

    pem = base64.b64decode(public_key_b64(client_key)).decode()
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": pem,
        "messages": seal_json(
            [{"role": "user", "content": "hi"}], await gateway_key(http)
        ).to_json(),
    }
    response = await http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert open_json(Envelope.from_json(response.json()["data"]), client_key)["choices"]


async def test_encrypted_legacy_completion(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": public_key_b64(client_key),
        "prompt": seal_json("a sealed prompt", await gateway_key(http)).to_json(),
    }
    response = await http.post("/v1/completions", json=body)
    assert response.status_code == 200
    text = open_json(Envelope.from_json(response.json()["data"]), client_key)
    assert text["choices"][0]["text"] == "echo: a sealed prompt"


@pytest.mark.parametrize(
    ("mutate", "param"),
    [
        (lambda b: b.pop("client_public_key"), "client_public_key"),
        (lambda b: b.update(client_public_key="bm90IGEga2V5"), "client_public_key"),
        (lambda b: b.update(messages=[{"role": "user", "content": "plain"}]), "messages"),
        (
            lambda b: b["messages"].update(ciphertext="AAAA" + b["messages"]["ciphertext"][4:]),
            "messages",
        ),
        (lambda b: b["messages"].update(iv="not base64!"), "messages"),
        (lambda b: b.update(encrypted=False), "encrypted"),
    ],
    ids=[
        "no client key",
        "bad client key",
        "plaintext messages",
        "tampered ciphertext",
        "bad iv",
        "envelope without encrypted",
    ],
)
async def test_bad_encrypted_requests_are_400(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey, mutate, param: str
) -> None:
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": public_key_b64(client_key),
        "messages": seal_json(
            [{"role": "user", "content": "hi"}], await gateway_key(http)
        ).to_json(),
    }
    mutate(body)
    response = await http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


async def test_messages_sealed_to_another_key_are_400(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    other = public_key_b64(generate_private_key())
    body = {
        "model": "echo",
        "encrypted": True,
        "client_public_key": public_key_b64(client_key),
        "messages": seal_json([{"role": "user", "content": "hi"}], other).to_json(),
    }
    response = await http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert "public-key" in response.json()["error"]["message"]


async def test_sealed_payload_that_is_not_messages_is_400(
    http: httpx.AsyncClient, client_key: rsa.RSAPrivateKey
) -> None:
    response = await sealed_chat(http, client_key, {"not": "a list"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"
