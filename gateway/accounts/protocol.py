"""Requests and responses of Token Router's account routes: whoami, me, keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    balance_tokens: int
    created_at: datetime | None


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    prefix: str
    name: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyList(BaseModel):
    object: str = "list"
    data: list[KeyOut]


class NewKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class NewKey(BaseModel):
    key: KeyOut
    secret: str = Field(description="The full API key. Shown only this once: store it now.")
