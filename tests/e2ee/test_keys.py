"""Node key persistence, the public-key wire form and proof of possession."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tokenplace.e2ee import (
    InvalidPublicKey,
    generate_private_key,
    load_or_create_private_key,
    load_public_key,
    public_key_b64,
    same_public_key,
    sign_nonce,
    verify_nonce_signature,
)

NONCE = b"relay-issued-nonce-0001"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


def raw_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- persistence -------------------------------------------------------------------------


def test_creates_key_file_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.pem"
    load_or_create_private_key(path)
    assert mode_of(path) == 0o600


def test_second_load_returns_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    created = load_or_create_private_key(path)
    loaded = load_or_create_private_key(path)
    assert loaded.private_numbers() == created.private_numbers()


def test_created_key_meets_the_wire_format(tmp_path: Path) -> None:
    created = load_or_create_private_key(tmp_path / "node.pem")
    assert created.key_size >= 2048
    assert created.public_key().public_numbers().e == 65537


def test_refuses_group_or_world_readable_key(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    load_or_create_private_key(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError, match=f"chmod 600 {path}"):
        load_or_create_private_key(path)


def test_stale_temp_file_does_not_widen_key_mode(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    stale = tmp_path / "node.pem.tmp"
    stale.write_bytes(b"left over by a crash")
    stale.chmod(0o644)
    load_or_create_private_key(path)
    assert mode_of(path) == 0o600


# --- public key wire form ----------------------------------------------------------------


def test_accepts_base64_pem(key: rsa.RSAPrivateKey) -> None:
    loaded = load_public_key(public_key_b64(key))
    assert loaded.public_numbers() == key.public_key().public_numbers()


def test_wire_form_is_base64_of_spki_pem(key: rsa.RSAPrivateKey) -> None:
    assert base64.b64decode(public_key_b64(key), validate=True).decode() == raw_pem(key)


def test_accepts_raw_pem(key: rsa.RSAPrivateKey) -> None:
    loaded = load_public_key(raw_pem(key))
    assert loaded.public_numbers() == key.public_key().public_numbers()


def test_accepts_surrounding_whitespace(key: rsa.RSAPrivateKey) -> None:
    assert load_public_key(f"\n  {public_key_b64(key)}\n").key_size == key.key_size


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a key",
        base64.b64encode(b"hello").decode(),
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ],
)
def test_rejects_garbage(garbage: str) -> None:
    with pytest.raises(InvalidPublicKey):
        load_public_key(garbage)


def test_rejects_non_ascii_pem() -> None:
    with pytest.raises(InvalidPublicKey):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAé\n-----END PUBLIC KEY-----\n")


def test_rejects_1024_bit_rsa_key() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidPublicKey):
        load_public_key(public_key_b64(weak))


def test_rejects_rsa_key_with_other_exponent() -> None:
    odd = rsa.generate_private_key(public_exponent=3, key_size=2048)
    with pytest.raises(InvalidPublicKey):
        load_public_key(raw_pem(odd))


@pytest.mark.parametrize("as_base64", [True, False])
def test_rejects_ec_key(as_base64: bool) -> None:
    pem = raw_pem(ec.generate_private_key(ec.SECP256R1()))
    text = base64.b64encode(pem.encode()).decode() if as_base64 else pem
    with pytest.raises(InvalidPublicKey):
        load_public_key(text)


def test_invalid_public_key_is_a_value_error() -> None:
    assert issubclass(InvalidPublicKey, ValueError)


# --- same_public_key ---------------------------------------------------------------------


def test_same_key_across_forms(key: rsa.RSAPrivateKey) -> None:
    assert same_public_key(public_key_b64(key), raw_pem(key))
    assert same_public_key(raw_pem(key), public_key_b64(key))


def test_different_keys_are_not_the_same(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    assert not same_public_key(public_key_b64(key), public_key_b64(other_key))


def test_garbage_is_never_the_same_key(key: rsa.RSAPrivateKey) -> None:
    assert not same_public_key(public_key_b64(key), "garbage")
    assert not same_public_key("garbage", "garbage")


# --- proof of possession -----------------------------------------------------------------


def test_signature_verifies_for_right_key_and_nonce(key: rsa.RSAPrivateKey) -> None:
    assert verify_nonce_signature(public_key_b64(key), NONCE, sign_nonce(key, NONCE))


def test_signature_verifies_with_raw_pem(key: rsa.RSAPrivateKey) -> None:
    assert verify_nonce_signature(raw_pem(key), NONCE, sign_nonce(key, NONCE))


def test_signature_fails_for_other_nonce(key: rsa.RSAPrivateKey) -> None:
    signature = sign_nonce(key, NONCE)
    assert not verify_nonce_signature(public_key_b64(key), b"another-nonce", signature)


def test_signature_fails_for_other_key(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    signature = sign_nonce(other_key, NONCE)
    assert not verify_nonce_signature(public_key_b64(key), NONCE, signature)


@pytest.mark.parametrize("signature", [b"", b"\x00" * 256, b"short"])
def test_malformed_signature_fails(key: rsa.RSAPrivateKey, signature: bytes) -> None:
    assert not verify_nonce_signature(public_key_b64(key), NONCE, signature)


def test_signature_is_bound_to_the_registration_context(key: rsa.RSAPrivateKey) -> None:
    """A plain PSS signature over the nonce (made for another purpose) is not accepted."""
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    bare = key.sign(NONCE, pss, hashes.SHA256())
    assert not verify_nonce_signature(public_key_b64(key), NONCE, bare)


def test_verify_rejects_invalid_public_key() -> None:
    with pytest.raises(InvalidPublicKey):
        verify_nonce_signature("garbage", NONCE, b"sig")
