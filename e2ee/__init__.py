"""End-to-end encryption shared by gateway, node and tests (DESIGN.md wire format v1)."""

from tokenplace.e2ee.envelope import (
    DecryptionError,
    Envelope,
    open_json,
    open_sealed,
    seal,
    seal_json,
)
from tokenplace.e2ee.keys import (
    InvalidPublicKey,
    generate_private_key,
    load_or_create_private_key,
    load_public_key,
    public_key_b64,
    same_public_key,
)
from tokenplace.e2ee.proof import sign_nonce, verify_nonce_signature

__all__ = [
    "DecryptionError",
    "Envelope",
    "InvalidPublicKey",
    "generate_private_key",
    "load_or_create_private_key",
    "load_public_key",
    "open_json",
    "open_sealed",
    "public_key_b64",
    "same_public_key",
    "seal",
    "seal_json",
    "sign_nonce",
    "verify_nonce_signature",
]
