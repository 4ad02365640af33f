"""Proof of possession: a node signs a relay-issued nonce with its private key."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tokenplace.e2ee.keys import load_public_key

# Domain separation: a signature made for registration means nothing elsewhere.
_CONTEXT = b"tokenplace-node-register-v1:"
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)


def sign_nonce(private_key: rsa.RSAPrivateKey, nonce: bytes) -> bytes:
    return private_key.sign(_CONTEXT + nonce, _PSS, hashes.SHA256())


def verify_nonce_signature(public_key: str, nonce: bytes, signature: bytes) -> bool:
    try:
        load_public_key(public_key).verify(signature, _CONTEXT + nonce, _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True
