"""Hybrid RSA-OAEP + AES-256-GCM envelopes.

`cipherkey` is RSA-OAEP (MGF1-SHA256, SHA-256, no label) of a fresh 32-byte
key; `iv` is 12 random bytes; `ciphertext` is the AES-GCM output with the
16-byte tag appended (the WebCrypto convention). On the JSON wire all three are
standard base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenplace.e2ee.keys import load_public_key

AES_KEY_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class DecryptionError(ValueError):
    """The envelope is malformed, was tampered with, or is not for this key."""


@dataclass(frozen=True, slots=True)
class Envelope:
    ciphertext: bytes
    cipherkey: bytes
    iv: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "ciphertext": _b64(self.ciphertext),
            "cipherkey": _b64(self.cipherkey),
            "iv": _b64(self.iv),
        }

    @classmethod
    def from_json(cls, data: Any) -> Envelope:
        """Build from the JSON wire form; raises DecryptionError on bad shape."""
        if not isinstance(data, dict):
            raise DecryptionError("an envelope is an object with ciphertext, cipherkey and iv")
        try:
            return cls(
                ciphertext=_unb64(data["ciphertext"]),
                cipherkey=_unb64(data["cipherkey"]),
                iv=_unb64(data["iv"]),
            )
        except KeyError as exc:
            raise DecryptionError(f"envelope is missing {exc.args[0]!r}") from exc


def seal(plaintext: bytes, public_key: str | rsa.RSAPublicKey) -> Envelope:
    key = load_public_key(public_key) if isinstance(public_key, str) else public_key
    aes_key = AESGCM.generate_key(bit_length=AES_KEY_BYTES * 8)
    iv = os.urandom(IV_BYTES)
    return Envelope(
        ciphertext=AESGCM(aes_key).encrypt(iv, plaintext, None),
        cipherkey=key.encrypt(aes_key, OAEP),
        iv=iv,
    )


def open_sealed(envelope: Envelope, private_key: rsa.RSAPrivateKey) -> bytes:
    return decrypt_payload(AESGCM(unwrap_key(envelope, private_key)), envelope)


def unwrap_key(envelope: Envelope, private_key: rsa.RSAPrivateKey) -> bytes:
    """The AES key in `envelope.cipherkey` (one RSA-OAEP private-key operation)."""
    _check_sizes(envelope)
    try:
        aes_key = private_key.decrypt(envelope.cipherkey, OAEP)
    except ValueError as exc:
        raise DecryptionError("cipherkey was not encrypted to this key") from exc
    if len(aes_key) != AES_KEY_BYTES:
        raise DecryptionError("cipherkey does not hold a 256-bit AES key")
    return aes_key


def decrypt_payload(aead: AESGCM, envelope: Envelope) -> bytes:
    """Authenticate and decrypt `envelope.ciphertext` with an unwrapped key."""
    _check_sizes(envelope)
    try:
        return aead.decrypt(envelope.iv, envelope.ciphertext, None)
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


def _check_sizes(envelope: Envelope) -> None:
    if len(envelope.iv) != IV_BYTES:
        raise DecryptionError(f"iv must be {IV_BYTES} bytes")
    if len(envelope.ciphertext) < TAG_BYTES:
        raise DecryptionError("ciphertext is shorter than the GCM tag")


def seal_json(value: Any, public_key: str | rsa.RSAPublicKey) -> Envelope:
    return seal(json.dumps(value, separators=(",", ":")).encode("utf-8"), public_key)


def open_json(envelope: Envelope, private_key: rsa.RSAPrivateKey) -> Any:
    plaintext = open_sealed(envelope, private_key)
    try:
        return json.loads(plaintext)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecryptionError("decrypted payload is not JSON") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise DecryptionError("envelope fields are base64 strings")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("envelope field is not standard base64") from exc
