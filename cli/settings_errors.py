"""A setting that does not validate (a flag or a TOKENPLACE_* variable) ends the
command with one line naming it, not with pydantic's multi-line traceback."""

from __future__ import annotations

from pydantic import ValidationError

ENV_PREFIXES = {"relay": "RELAY", "gateway": "GATEWAY", "node": "NODE"}


def describe(command: str, invalid: ValidationError) -> str:
    """ "tokenplace node: engine (--engine or TOKENPLACE_NODE_ENGINE): unknown engine ..."."""
    first = invalid.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    prefix = ENV_PREFIXES.get(command)
    where = f" (--{field.replace('_', '-')} or TOKENPLACE_{prefix}_{field.upper()})"
    return f"tokenplace {command}: {field}{where if prefix else ''}: {message}"
