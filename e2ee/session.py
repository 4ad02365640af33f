"""Envelope sessions: the same wire format, without an RSA operation per message.

An RSA-2048 private-key operation costs ~0.6 ms here, and every request through the
network used to need two (the node opening the job, the gateway opening the answer).
Between two parties that talk often, the sender may keep one AES-256 key, wrapped to
the recipient once, for a bounded number of messages and a bounded time; every
message still gets a fresh random 96-bit IV, so GCM's limits (2^32 random IVs per
key) are never approached. The recipient remembers unwrapped keys by their exact
`cipherkey` bytes, so a repeated cipherkey skips the RSA decryption. Envelopes stay
v1 envelopes: a receiver without a cache, or a sender without a session, interoperates.

Nothing is weaker towards the relay: it already sees which public key a message is
for, so a repeated cipherkey tells it nothing new, and it never holds a key.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from tokenplace.e2ee.envelope import (
    AES_KEY_BYTES,
    IV_BYTES,
    OAEP,
    DecryptionError,
    Envelope,
    decrypt_payload,
    unwrap_key,
)
from tokenplace.e2ee.keys import load_public_key

M = TypeVar("M", bound=BaseModel)

# A wrapped key is used for at most this many messages or this long, then replaced.
MAX_USES_PER_KEY = 4096
MAX_KEY_AGE_SECONDS = 300.0
MAX_RECIPIENTS = 1024
MAX_REMEMBERED_KEYS = 4096


@dataclass(slots=True)
class _SendKey:
    aead: AESGCM
    cipherkey: bytes
    created: float
    uses: int = 0


class Sealer:
    """Seals to recipients, reusing one wrapped AES key per recipient for a while.

    Thread-safe: node jobs seal from worker threads.
    """

    def __init__(
        self,
        max_uses: int = MAX_USES_PER_KEY,
        max_age_seconds: float = MAX_KEY_AGE_SECONDS,
        max_recipients: int = MAX_RECIPIENTS,
    ) -> None:
        self._max_uses = max_uses
        self._max_age = max_age_seconds
        self._max_recipients = max_recipients
        self._keys: OrderedDict[str | int, _SendKey] = OrderedDict()
        self._lock = threading.Lock()

    def seal(self, plaintext: bytes, public_key: str | rsa.RSAPublicKey) -> Envelope:
        key = self._send_key(public_key)
        iv = os.urandom(IV_BYTES)
        return Envelope(
            ciphertext=key.aead.encrypt(iv, plaintext, None), cipherkey=key.cipherkey, iv=iv
        )

    def seal_json(self, value: Any, public_key: str | rsa.RSAPublicKey) -> Envelope:
        return self.seal(json.dumps(value, separators=(",", ":")).encode("utf-8"), public_key)

    def seal_model(self, model: BaseModel, public_key: str | rsa.RSAPublicKey) -> Envelope:
        """`model` as compact JSON, None fields left out, serialized by pydantic-core."""
        return self.seal(model.model_dump_json(exclude_none=True).encode("utf-8"), public_key)

    def _send_key(self, public_key: str | rsa.RSAPublicKey) -> _SendKey:
        identity = public_key if isinstance(public_key, str) else public_key.public_numbers().n
        now = time.monotonic()
        with self._lock:
            key = self._keys.get(identity)
            if key is not None and key.uses < self._max_uses and now - key.created < self._max_age:
                key.uses += 1
                self._keys.move_to_end(identity)
                return key
        key = _new_send_key(public_key, now)  # RSA encryption outside the lock
        with self._lock:
            self._keys[identity] = key
            self._keys.move_to_end(identity)
            while len(self._keys) > self._max_recipients:
                self._keys.popitem(last=False)
        return key


def _new_send_key(public_key: str | rsa.RSAPublicKey, now: float) -> _SendKey:
    recipient = load_public_key(public_key) if isinstance(public_key, str) else public_key
    aes_key = AESGCM.generate_key(bit_length=AES_KEY_BYTES * 8)
    return _SendKey(AESGCM(aes_key), recipient.encrypt(aes_key, OAEP), now, uses=1)


class Opener:
    """Opens envelopes sealed to one private key, remembering unwrapped AES keys."""

    def __init__(self, private_key: rsa.RSAPrivateKey, max_keys: int = MAX_REMEMBERED_KEYS) -> None:
        self.private_key = private_key
        self._max_keys = max_keys
        self._keys: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, envelope: Envelope) -> bytes:
        with self._lock:
            aead = self._keys.get(envelope.cipherkey)
            if aead is not None:
                self._keys.move_to_end(envelope.cipherkey)
        if aead is None:
            return self._open_and_remember(envelope)
        return decrypt_payload(aead, envelope)

    def open_json(self, envelope: Envelope) -> Any:
        plaintext = self.open(envelope)
        try:
            return json.loads(plaintext)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecryptionError("decrypted payload is not JSON") from exc

    def open_model(self, envelope: Envelope, model: type[M]) -> M:
        """Open and validate in one pass (pydantic-core parses the JSON itself).

        Raises DecryptionError, or pydantic's ValidationError for JSON that is not a `model`.
        """
        return model.model_validate_json(self.open(envelope))

    def _open_and_remember(self, envelope: Envelope) -> bytes:
        aead = AESGCM(unwrap_key(envelope, self.private_key))
        plaintext = decrypt_payload(aead, envelope)
        # Only a key that authenticated a message is remembered.
        with self._lock:
            self._keys[envelope.cipherkey] = aead
            while len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)
        return plaintext
