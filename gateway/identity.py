"""The gateway's own key pair: what plaintext-mode requests are sealed from, what
encrypted-mode callers seal to (GET /public-key), and what async jobs are answered to."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.e2ee import public_key_b64
from tokenplace.e2ee.session import Opener, Sealer


class GatewayIdentity:
    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self.private_key = private_key
        self.public_key = public_key_b64(private_key)
        # AES sessions both ways: no RSA private-key operation per request.
        self.sealer = Sealer()
        self.opener = Opener(private_key)

    def rotate(self, private_key: rsa.RSAPrivateKey) -> None:
        """Answer to a new key from now on (requests sealed to the old one fail to open)."""
        self.private_key = private_key
        self.public_key = public_key_b64(private_key)
        self.opener = Opener(private_key)
