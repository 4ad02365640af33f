"""Which engines are installed: the `tokenplace.engines` entry-point group.

Each entry point maps an engine's name (what `--engine` takes) to the object that
builds it, `module:Class` (see base.EngineFactory). This project declares its own in
pyproject.toml; any installed package can add one the same way. Names come from
package metadata alone: no engine module is imported until one is chosen, so
`--help` and settings validation stay fast and need none of the engines' packages.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import cast

from tokenplace.node.engines.base import EngineFactory, EngineUnavailable

ENTRY_POINT_GROUP = "tokenplace.engines"


class UnknownEngine(ValueError):
    """No installed engine has this name."""


def installed_engines() -> dict[str, EntryPoint]:
    """Installed engines by name, sorted. When two packages claim one name, the
    distribution found first on sys.path wins, as for any import."""
    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return dict(sorted(found.items()))


def engine_names() -> list[str]:
    return list(installed_engines())


def check_engine_name(name: str) -> str:
    """`name` if an installed engine has it; else UnknownEngine listing those that do."""
    if name not in installed_engines():
        raise UnknownEngine(_unknown(name))
    return name


def load_engine_factory(name: str) -> EngineFactory:
    """Import the named engine's module and return its factory (the engine class)."""
    entry_point = installed_engines().get(name)
    if entry_point is None:
        raise UnknownEngine(_unknown(name))
    try:
        return cast(EngineFactory, entry_point.load())
    except ImportError as missing:
        reason = str(missing).splitlines()[0] if str(missing) else type(missing).__name__
        raise EngineUnavailable(
            f"the {name} engine ({entry_point.value}) cannot be imported ({reason}); "
            "reinstall the package that provides it"
        ) from None


def _unknown(name: str) -> str:
    names = engine_names()
    if not names:
        return (
            f"unknown engine {name!r}: no engines are installed (no {ENTRY_POINT_GROUP!r} "
            "entry points); install token.place with pip (`make install` does)"
        )
    return f"unknown engine {name!r}; installed engines: {', '.join(names)}"
