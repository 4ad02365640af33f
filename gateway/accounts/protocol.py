"""Requests and responses of Token Router's account routes: whoami, me, keys.

An account, a key and a whoami answer go out as the client's own types
(`tokenplace.client.types`): the HTTP shape is the domain shape.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tokenplace.client.types import ApiKey


class KeyList(BaseModel):
    object: str = "list"
    data: list[ApiKey]


class NewKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class NewKey(BaseModel):
    key: ApiKey
    secret: str = Field(description="The full API key. Shown only this once: store it now.")
