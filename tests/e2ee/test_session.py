"""Envelope sessions: fewer RSA operations, the same v1 envelopes on the wire."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from tokenplace.e2ee import DecryptionError, open_json, public_key_b64, seal_json
from tokenplace.e2ee.payload import InnerRequest, JobRequest, SamplingOptions
from tokenplace.e2ee.session import Opener, Sealer


class CountingKey:
    """A private key that counts its RSA decryptions."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.decryptions = 0

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        self.decryptions += 1
        return self.key.decrypt(ciphertext, padding)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_sealer_reuses_one_wrapped_key_per_recipient_with_fresh_ivs(key, other_key) -> None:
    sealer = Sealer()
    first = sealer.seal_json({"n": 1}, public_key_b64(key))
    second = sealer.seal_json({"n": 2}, public_key_b64(key))
    elsewhere = sealer.seal_json({"n": 3}, public_key_b64(other_key))
    assert first.cipherkey == second.cipherkey
    assert first.iv != second.iv
    assert elsewhere.cipherkey != first.cipherkey
    # Still plain v1 envelopes: a receiver without any session state opens them.
    assert open_json(first, key) == {"n": 1}
    assert open_json(second, key) == {"n": 2}
    assert open_json(elsewhere, other_key) == {"n": 3}


def test_sealer_replaces_a_key_after_its_use_limit(key) -> None:
    sealer = Sealer(max_uses=2)
    envelopes = [sealer.seal(b"x", key.public_key()) for _ in range(5)]
    keys = [e.cipherkey for e in envelopes]
    assert keys[0] == keys[1] != keys[2] == keys[3] != keys[4]


def test_sealer_replaces_a_key_after_its_age_limit(key) -> None:
    sealer = Sealer(max_age_seconds=0.0)
    assert (
        sealer.seal(b"x", key.public_key()).cipherkey
        != sealer.seal(b"x", key.public_key()).cipherkey
    )


def test_opener_unwraps_each_cipherkey_once(key) -> None:
    counting = CountingKey(key)
    opener = Opener(counting)  # type: ignore[arg-type]
    sealer = Sealer()
    for n in range(5):
        assert opener.open_json(sealer.seal_json({"n": n}, key.public_key())) == {"n": n}
    assert counting.decryptions == 1
    # Fresh-key envelopes from session-less senders open too, one RSA operation each.
    assert opener.open_json(seal_json({"plain": True}, key.public_key())) == {"plain": True}
    assert counting.decryptions == 2


def test_opener_still_authenticates_every_message_under_a_remembered_key(key) -> None:
    opener = Opener(key)
    sealer = Sealer()
    assert opener.open_json(sealer.seal_json({"n": 1}, key.public_key())) == {"n": 1}
    genuine = sealer.seal_json({"n": 2}, key.public_key())
    flipped = bytes([genuine.ciphertext[0] ^ 1]) + genuine.ciphertext[1:]
    with pytest.raises(DecryptionError, match="authentication"):
        opener.open(dataclasses.replace(genuine, ciphertext=flipped))
    with pytest.raises(DecryptionError, match="iv"):
        opener.open(dataclasses.replace(genuine, iv=b"short"))


def test_opener_does_not_remember_a_key_that_failed(key, other_key) -> None:
    counting = CountingKey(key)
    opener = Opener(counting)  # type: ignore[arg-type]
    foreign = seal_json({"n": 1}, other_key.public_key())
    for _ in range(2):
        with pytest.raises(DecryptionError):
            opener.open(foreign)
    assert counting.decryptions == 2


def test_opener_forgets_the_oldest_keys_beyond_its_bound(key) -> None:
    counting = CountingKey(key)
    opener = Opener(counting, max_keys=2)  # type: ignore[arg-type]
    envelopes = [seal_json({"n": n}, key.public_key()) for n in range(3)]
    for envelope in envelopes:
        opener.open(envelope)
    opener.open(envelopes[2])  # remembered
    assert counting.decryptions == 3
    opener.open(envelopes[0])  # forgotten: unwrapped again
    assert counting.decryptions == 4


def test_a_sealed_model_opens_as_that_model_anywhere(key) -> None:
    """seal_model writes plain v1 JSON: a receiver with no session reads it too."""
    request = JobRequest(model="m", prompt="héllo", options=SamplingOptions(max_tokens=3))
    inner = InnerRequest(request_id="req_1", client_public_key="k", request=request)
    sealed = Sealer().seal_model(inner, public_key_b64(key))
    assert Opener(key).open_model(sealed, InnerRequest) == inner
    plain = open_json(sealed, key)
    assert plain["request"]["prompt"] == "héllo"
    assert "messages" not in plain["request"]  # None fields are left out, as before


def test_open_model_rejects_json_of_another_shape(key) -> None:
    sealed = Sealer().seal_json({"request_id": "req_1"}, public_key_b64(key))
    with pytest.raises(ValidationError):
        Opener(key).open_model(sealed, InnerRequest)
