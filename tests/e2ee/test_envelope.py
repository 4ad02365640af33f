"""Envelope wire format v1 (DESIGN.md): RSA-OAEP-SHA256 key wrap + AES-256-GCM."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenplace.e2ee import (
    DecryptionError,
    Envelope,
    InvalidPublicKey,
    generate_private_key,
    open_json,
    open_sealed,
    public_key_b64,
    seal,
    seal_json,
)

OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def envelope(key: rsa.RSAPrivateKey) -> Envelope:
    return seal(b"the quick brown fox", key.public_key())


def flip_bit(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def third_party_seal(plaintext: bytes, public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """What an independent client builds from DESIGN.md with raw primitives."""
    aes_key, iv = os.urandom(32), os.urandom(12)
    return {
        "ciphertext": base64.b64encode(AESGCM(aes_key).encrypt(iv, plaintext, None)).decode(),
        "cipherkey": base64.b64encode(public_key.encrypt(aes_key, OAEP_SHA256)).decode(),
        "iv": base64.b64encode(iv).decode(),
    }


# --- round trips -------------------------------------------------------------------------


def test_bytes_round_trip(key: rsa.RSAPrivateKey) -> None:
    plaintext = b"\x00binary\xffpayload" * 100
    assert open_sealed(seal(plaintext, key.public_key()), key) == plaintext


def test_empty_plaintext_round_trip(key: rsa.RSAPrivateKey) -> None:
    assert open_sealed(seal(b"", key.public_key()), key) == b""


def test_json_round_trip(key: rsa.RSAPrivateKey) -> None:
    value: dict[str, Any] = {"messages": [{"role": "user", "content": "héllo ✓"}], "n": 3}
    assert open_json(seal_json(value, key.public_key()), key) == value


def test_seal_accepts_public_key_in_wire_form(key: rsa.RSAPrivateKey) -> None:
    sealed = seal_json({"ok": True}, public_key_b64(key))
    assert open_json(sealed, key) == {"ok": True}


def test_wire_form_round_trip(key: rsa.RSAPrivateKey, envelope: Envelope) -> None:
    wire = json.loads(json.dumps(envelope.to_json()))
    assert open_sealed(Envelope.from_json(wire), key) == b"the quick brown fox"


def test_each_seal_uses_fresh_key_and_iv(key: rsa.RSAPrivateKey) -> None:
    first, second = seal(b"same", key.public_key()), seal(b"same", key.public_key())
    assert first.iv != second.iv
    assert first.cipherkey != second.cipherkey
    assert first.ciphertext != second.ciphertext


# --- wire form and sizes -----------------------------------------------------------------


def test_wire_fields_are_standard_base64(envelope: Envelope) -> None:
    wire = envelope.to_json()
    assert set(wire) == {"ciphertext", "cipherkey", "iv"}
    assert base64.b64decode(wire["ciphertext"], validate=True) == envelope.ciphertext
    assert base64.b64decode(wire["cipherkey"], validate=True) == envelope.cipherkey
    assert base64.b64decode(wire["iv"], validate=True) == envelope.iv


def test_sizes_match_aes_gcm_and_rsa_2048(envelope: Envelope) -> None:
    assert len(envelope.ciphertext) == len(b"the quick brown fox") + 16
    assert len(envelope.cipherkey) == 256
    assert len(envelope.iv) == 12


def test_ciphertext_is_aes_gcm_with_tag_appended(
    key: rsa.RSAPrivateKey, envelope: Envelope
) -> None:
    aes_key = key.decrypt(envelope.cipherkey, OAEP_SHA256)
    assert len(aes_key) == 32
    assert AESGCM(aes_key).decrypt(envelope.iv, envelope.ciphertext, None) == (
        b"the quick brown fox"
    )


def test_opens_third_party_envelope(key: rsa.RSAPrivateKey) -> None:
    wire = third_party_seal(b'{"hello":"node"}', key.public_key())
    assert open_json(Envelope.from_json(wire), key) == {"hello": "node"}


# --- tampering and wrong keys ------------------------------------------------------------


@pytest.mark.parametrize("field", ["ciphertext", "cipherkey", "iv"])
@pytest.mark.parametrize("position", ["first", "last"])
def test_flipped_bit_is_rejected(
    key: rsa.RSAPrivateKey, envelope: Envelope, field: str, position: str
) -> None:
    original: bytes = getattr(envelope, field)
    index = 0 if position == "first" else len(original) - 1
    tampered = replace(envelope, **{field: flip_bit(original, index)})
    with pytest.raises(DecryptionError):
        open_sealed(tampered, key)


def test_wrong_private_key_is_rejected(other_key: rsa.RSAPrivateKey, envelope: Envelope) -> None:
    with pytest.raises(DecryptionError):
        open_sealed(envelope, other_key)


def test_pkcs1v15_cipherkey_is_rejected(key: rsa.RSAPrivateKey, envelope: Envelope) -> None:
    aes_key = key.decrypt(envelope.cipherkey, OAEP_SHA256)
    legacy = replace(envelope, cipherkey=key.public_key().encrypt(aes_key, padding.PKCS1v15()))
    with pytest.raises(DecryptionError):
        open_sealed(legacy, key)


def test_oaep_sha1_cipherkey_is_rejected(key: rsa.RSAPrivateKey, envelope: Envelope) -> None:
    aes_key = key.decrypt(envelope.cipherkey, OAEP_SHA256)
    sha1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    with pytest.raises(DecryptionError):
        open_sealed(replace(envelope, cipherkey=key.public_key().encrypt(aes_key, sha1)), key)


def test_short_aes_key_is_rejected(key: rsa.RSAPrivateKey, envelope: Envelope) -> None:
    aes128 = key.public_key().encrypt(os.urandom(16), OAEP_SHA256)
    with pytest.raises(DecryptionError):
        open_sealed(replace(envelope, cipherkey=aes128), key)


@pytest.mark.parametrize("length", [0, 11, 13, 16])
def test_iv_of_wrong_length_is_rejected(
    key: rsa.RSAPrivateKey, envelope: Envelope, length: int
) -> None:
    with pytest.raises(DecryptionError):
        open_sealed(replace(envelope, iv=os.urandom(length)), key)


def test_ciphertext_shorter_than_tag_is_rejected(
    key: rsa.RSAPrivateKey, envelope: Envelope
) -> None:
    with pytest.raises(DecryptionError):
        open_sealed(replace(envelope, ciphertext=envelope.ciphertext[:15]), key)


def test_non_json_plaintext_is_rejected_by_open_json(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(DecryptionError):
        open_json(seal(b"\xff not json", key.public_key()), key)


# --- malformed wire form -----------------------------------------------------------------


@pytest.mark.parametrize("missing", ["ciphertext", "cipherkey", "iv"])
def test_from_json_missing_field(envelope: Envelope, missing: str) -> None:
    wire = envelope.to_json()
    del wire[missing]
    with pytest.raises(DecryptionError, match=missing):
        Envelope.from_json(wire)


@pytest.mark.parametrize("bad", ["not base64!", "YWJ", "-_-_", "YW Jj", 123, None])
def test_from_json_rejects_non_base64(envelope: Envelope, bad: object) -> None:
    wire: dict[str, Any] = {**envelope.to_json(), "iv": bad}
    with pytest.raises(DecryptionError):
        Envelope.from_json(wire)


@pytest.mark.parametrize("data", [None, "envelope", ["a", "b", "c"]])
def test_from_json_rejects_non_objects(data: object) -> None:
    with pytest.raises(DecryptionError):
        Envelope.from_json(data)


def test_envelope_error_is_a_value_error() -> None:
    """Callers catching ValueError (e.g. the gateway) also catch decryption failures."""
    assert issubclass(DecryptionError, ValueError)


def test_seal_rejects_weak_public_key_text() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidPublicKey):
        seal(b"x", public_key_b64(weak))
