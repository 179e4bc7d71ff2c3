"""What a ``newsbot run`` process does: its roles (``--roles``)."""

from __future__ import annotations

from bot.core.errors import ConfigError

__all__ = ["ALL_ROLES", "ROLES", "parse_roles"]

ROLES = ("poll", "deliver", "schedule", "gateway")
"""poll: fetch, parse, store, match; deliver: drain the outbox; schedule: scheduled
briefings; gateway: Discord slash commands. Default: all of them."""
ALL_ROLES = frozenset(ROLES)


def parse_roles(text: str) -> frozenset[str]:
    """``poll,deliver`` as a set of roles; an unknown or missing role is a ConfigError."""
    roles = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not roles:
        raise ConfigError("--roles", f"name at least one of {', '.join(ROLES)}")
    for role in roles:
        if role not in ROLES:
            raise ConfigError("--roles", f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return frozenset(roles)
