"""RSA key pairs: creation, persistence (mode 0600) and the public-key wire form.

Public keys travel as standard base64 of the PEM SubjectPublicKeyInfo; raw PEM
is accepted on input too.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048
MIN_KEY_BITS = 2048
PUBLIC_EXPONENT = 65537


class InvalidPublicKey(ValueError):
    """The text is not an RSA public key this wire format accepts."""


def generate_private_key(bits: int = KEY_BITS) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def load_or_create_private_key(path: Path) -> rsa.RSAPrivateKey:
    """Load the PEM private key at `path`, creating it (mode 0600) if absent."""
    path = Path(path)
    if path.exists():
        _require_private_mode(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key
    key = generate_private_key()
    write_private_key(path, key)
    return key


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Atomically (re)write `path` with `key`, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)  # a stale file would keep its (possibly wider) mode
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # regardless of umask
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(tmp, path)


def _require_private_mode(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(
            f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
        )


def public_key_b64(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(pem).decode("ascii")


@lru_cache(maxsize=1024)
def load_public_key(text: str) -> rsa.RSAPublicKey:
    """Parse a public key given as base64 PEM (the wire form) or raw PEM."""
    pem = _pem_bytes(text)
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InvalidPublicKey("not a PEM SubjectPublicKeyInfo public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidPublicKey("only RSA public keys are accepted")
    numbers = key.public_numbers()
    if key.key_size < MIN_KEY_BITS or numbers.e != PUBLIC_EXPONENT:
        raise InvalidPublicKey(f"RSA keys must be >= {MIN_KEY_BITS} bits with e = 65537")
    return key


def _pem_bytes(text: str) -> bytes:
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            return stripped.encode("ascii")
        except UnicodeEncodeError as exc:
            raise InvalidPublicKey("a PEM public key must be ASCII") from exc
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPublicKey("public key is neither base64 PEM nor PEM") from exc


def same_public_key(a: str, b: str) -> bool:
    """True when both texts encode the same RSA public key (any accepted form)."""
    try:
        return load_public_key(a).public_numbers() == load_public_key(b).public_numbers()
    except InvalidPublicKey:
        return False
