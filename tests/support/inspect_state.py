"""Collects every str and bytes value reachable from a component's own objects."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from typing import Any

_CONTAINERS = (dict, list, tuple, set, frozenset, collections.deque)


def reachable_text(root: Any, owners: tuple[str, ...] = ("tokenplace.relay",)) -> list[str | bytes]:
    """Walk objects owned by `owners` (their classes' modules), containers, queues, futures."""
    found: list[str | bytes] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str | bytes | bytearray):
            found.append(bytes(obj) if isinstance(obj, bytearray) else obj)
        else:
            stack.extend(_children(obj, owners))
    return found


def _children(obj: Any, owners: tuple[str, ...]) -> list[Any]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, _CONTAINERS):
        return list(obj)
    if isinstance(obj, asyncio.Queue):
        return list(obj._queue)  # type: ignore[attr-defined]
    if isinstance(obj, asyncio.Future):
        if obj.done() and not obj.cancelled():
            return [obj.exception() or obj.result()]
        return []
    if type(obj).__module__.startswith(owners):
        if dataclasses.is_dataclass(obj):
            return [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        return list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    return []
