"""Encrypted request mode: the caller seals its input to the gateway's key and gets
the answer sealed to its own key (token.place API v1 seed)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tokenplace.e2ee import DecryptionError, Envelope, InvalidPublicKey, load_public_key
from tokenplace.gateway.chat.protocol import ChatMessageIn, EncryptedResponse
from tokenplace.gateway.errors import APIError
from tokenplace.gateway.identity import GatewayIdentity
from tokenplace.gateway.protocol import EncryptedPayload, SealedData

_MESSAGES = TypeAdapter(list[ChatMessageIn])


def require_client_key(client_public_key: str | None) -> str:
    if not client_public_key:
        raise APIError(
            400, "encrypted requests need client_public_key", "invalid_request", "client_public_key"
        )
    try:
        load_public_key(client_public_key)
    except InvalidPublicKey as exc:
        raise APIError(
            400, f"client_public_key: {exc}", "invalid_request", "client_public_key"
        ) from None
    return client_public_key


def envelope_field(payload: Any, param: str) -> Envelope:
    """The envelope an encrypted request carries in `param` (400 if it is not one)."""
    if not isinstance(payload, EncryptedPayload):
        raise APIError(
            400,
            f"with encrypted: true, {param} must be an envelope {{ciphertext, cipherkey, iv}}",
            "invalid_request",
            param,
        )
    try:
        return Envelope.from_json(payload.model_dump())
    except DecryptionError as exc:
        raise APIError(400, f"{param}: {exc}", "invalid_request", param) from None


def open_field(identity: GatewayIdentity, payload: Any, param: str) -> Any:
    """Decrypt an encrypted request field with the gateway's key; returns its JSON value."""
    envelope = envelope_field(payload, param)
    try:
        return json.loads(identity.opener.open(envelope))
    except (DecryptionError, ValueError):
        raise APIError(
            400,
            f"{param} could not be decrypted with this gateway's key; "
            "encrypt to the key from GET /public-key",
            "invalid_request",
            param,
        ) from None


def open_messages(identity: GatewayIdentity, payload: Any) -> list[ChatMessageIn]:
    try:
        messages = _MESSAGES.validate_python(open_field(identity, payload, "messages"))
    except ValidationError:
        raise APIError(
            400,
            "the decrypted messages are not a list of chat messages",
            "invalid_request",
            "messages",
        ) from None
    if not messages:
        raise APIError(400, "messages must not be empty", "invalid_request", "messages")
    return messages


def seal_response(
    identity: GatewayIdentity, body: dict[str, Any], client_public_key: str
) -> EncryptedResponse:
    """Seal the answer to the caller through the gateway's session with that key, so a
    caller that remembers unwrapped keys (`e2ee.session.Opener`) opens it without RSA."""
    return sealed_reply(identity.sealer.seal_json(body, client_public_key))


def sealed_reply(envelope: Envelope) -> EncryptedResponse:
    return EncryptedResponse(data=SealedData(**envelope.to_json()))
