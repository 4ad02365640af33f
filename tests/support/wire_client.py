"""A relay-blind client written from the public wire format alone.

It uses the `cryptography` primitives directly and nothing from this project,
so a passing test shows a third party can interoperate from the spec.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class WireClient:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(pem).decode()

    def seal(self, value: Any, recipient_b64_pem: str) -> dict[str, str]:
        recipient = serialization.load_pem_public_key(base64.b64decode(recipient_b64_pem))
        assert isinstance(recipient, rsa.RSAPublicKey)
        aes_key, iv = os.urandom(32), os.urandom(12)
        ciphertext = AESGCM(aes_key).encrypt(iv, json.dumps(value).encode(), None)
        return {
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "cipherkey": base64.b64encode(recipient.encrypt(aes_key, OAEP)).decode(),
            "iv": base64.b64encode(iv).decode(),
        }

    def open(self, envelope: dict[str, str]) -> Any:
        aes_key = self.key.decrypt(base64.b64decode(envelope["cipherkey"]), OAEP)
        plaintext = AESGCM(aes_key).decrypt(
            base64.b64decode(envelope["iv"]), base64.b64decode(envelope["ciphertext"]), None
        )
        return json.loads(plaintext)

    def inner_request(self, request_id: str, model: str, content: str) -> dict[str, Any]:
        return {
            "request_id": request_id,
            "client_public_key": self.public_key,
            "request": {
                "model": model,
                "messages": [{"role": "user", "content": content}],
                "options": {},
            },
        }
