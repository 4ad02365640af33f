"""Which roles this installation can run. Each role is an extra of the package
(`pip install 'tokenplace[node]'`, `[gateway]`, `[relay]`, `[all]`); a command whose
role is missing says so in one line instead of failing on an import deep inside."""

from __future__ import annotations

import importlib.util

# A module each role's extra installs, checked without importing it.
ROLE_MODULES = {
    "relay": ("sqlalchemy", "alembic", "aiosqlite", "grpc_health", "grpc_reflection"),
    "gateway": ("fastapi", "uvicorn", "prometheus_client"),
    "node": ("httpx",),
}
COMMAND_ROLES = {
    "relay": ("relay",),
    "gateway": ("gateway",),
    "node": ("node",),
    "up": ("relay", "gateway", "node"),
}


def missing_role(command: str) -> str | None:
    """One line saying which role `command` needs and how to install it; None if present."""
    for role in COMMAND_ROLES.get(command, ()):
        for module in ROLE_MODULES[role]:
            if importlib.util.find_spec(module) is None:
                extra = "all" if command == "up" else role
                return (
                    f"tokenplace {command}: the {role} role is not installed (no module "
                    f"{module!r}): pip install 'tokenplace[{extra}]'"
                )
    return None
