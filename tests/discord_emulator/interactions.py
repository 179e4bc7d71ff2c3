"""Interactions the test sends to the bot, and what the bot answered to them."""

# ruff: noqa: ASYNC109 - the wait API takes timeouts, like asyncio.wait_for

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .state import Attachment, ChannelType, Guild, RecordedMessage, World

if TYPE_CHECKING:
    from .server import Emulator

__all__ = [
    "CallbackType",
    "InteractionCallback",
    "InteractionType",
    "OptionType",
    "RecordedInteraction",
    "UploadedFile",
    "build_command_options",
    "find_command",
]


class InteractionType:
    """Interaction types (Discord's numbering)."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType:
    """Interaction callback (response) types."""

    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class OptionType:
    """Application command option types."""

    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


@dataclass(frozen=True)
class UploadedFile:
    """A file a simulated user gives to an attachment option."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class InteractionCallback:
    """One POST /interactions/{id}/{token}/callback the bot made."""

    type: int
    data: dict[str, Any]
    attachments: tuple[Attachment, ...]
    at: float

    @property
    def ephemeral(self) -> bool:
        """True when the response asked for an ephemeral message."""
        return bool(int(self.data.get("flags") or 0) & 64)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (type 8)."""
        return list(self.data.get("choices") or [])


@dataclass(eq=False)
class RecordedInteraction:
    """An interaction sent to the bot, with the responses and messages it produced."""

    id: int
    token: str
    type: int
    name: str
    data: dict[str, Any]
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    created_at: float = field(default_factory=time.time)
    callbacks: list[InteractionCallback] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    component_message_id: int | None = None
    shard_id: int = 0
    """The shard whose gateway session received it."""
    session_token: str | None = None
    """The token that session identified with."""
    _emulator: Emulator | None = field(default=None, repr=False)

    # ------------------------------------------------------------------------ state
    @property
    def acknowledged(self) -> bool:
        """True once the bot answered the callback."""
        return bool(self.callbacks)

    @property
    def response(self) -> InteractionCallback | None:
        """The bot's callback, if it answered."""
        return self.callbacks[0] if self.callbacks else None

    @property
    def original(self) -> RecordedMessage | None:
        """The original response message (for a button click answered by an update, the
        clicked message)."""
        if self.original_message_id is None:
            return None
        return self._world().messages.get(self.original_message_id)

    @property
    def followups(self) -> list[RecordedMessage]:
        """Followup messages, in order."""
        messages = self._world().messages
        return [messages[i] for i in self.followup_ids if i in messages]

    @property
    def messages(self) -> list[RecordedMessage]:
        """The original response (if it is a message of this interaction) and the followups."""
        found = []
        original = self.original
        if original is not None and original.interaction_id == self.id:
            found.append(original)
        return found + self.followups

    @property
    def autocomplete_choices(self) -> list[dict[str, Any]] | None:
        """The autocomplete result, or None before the bot answered."""
        for callback in self.callbacks:
            if callback.type == CallbackType.AUTOCOMPLETE_RESULT:
                return callback.choices
        return None

    # ------------------------------------------------------------------------ waits
    async def wait_response(self, timeout: float = 10.0) -> InteractionCallback:
        """Wait for the bot's callback (message, defer, update, autocomplete...)."""
        return await self._emu().wait_for(
            lambda: self.response, timeout=timeout, what=f"a response to {self._label()}"
        )

    async def wait_original(self, timeout: float = 10.0, *, ready: bool = True) -> RecordedMessage:
        """Wait for the original response message; with ``ready``, until it is no longer a
        "thinking..." placeholder."""

        def check() -> RecordedMessage | None:
            original = self.original
            if original is None or (ready and original.loading):
                return None
            return original

        return await self._emu().wait_for(
            check, timeout=timeout, what=f"the original response of {self._label()}"
        )

    async def wait_followup(self, index: int = 0, timeout: float = 10.0) -> RecordedMessage:
        """Wait for the ``index``-th followup message."""

        def check() -> RecordedMessage | None:
            followups = self.followups
            return followups[index] if len(followups) > index else None

        return await self._emu().wait_for(
            check, timeout=timeout, what=f"followup #{index} of {self._label()}"
        )

    async def wait_messages(self, count: int = 1, timeout: float = 10.0) -> list[RecordedMessage]:
        """Wait until the interaction produced ``count`` finished messages (original +
        followups, placeholders excluded)."""

        def check() -> list[RecordedMessage] | None:
            done = [m for m in self.messages if not m.loading]
            return done if len(done) >= count else None

        return await self._emu().wait_for(
            check, timeout=timeout, what=f"{count} message(s) from {self._label()}"
        )

    async def wait_autocomplete(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait for the autocomplete choices."""
        return await self._emu().wait_for(
            lambda: self.autocomplete_choices,
            timeout=timeout,
            what=f"autocomplete choices for {self._label()}",
        )

    # ------------------------------------------------------------------------ helpers
    def _emu(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("this interaction is not attached to an emulator")
        return self._emulator

    def _world(self) -> World:
        return self._emu().world

    def _label(self) -> str:
        return f"interaction {self.name!r} ({self.id})"


def find_command(world: World, qualified_name: str, guild_id: int | None) -> dict[str, Any]:
    """The synced command for ``qualified_name``'s first word (guild scope first)."""
    root = qualified_name.split()[0]
    if guild_id is not None:
        command = world.commands_for(guild_id).get(root)
        if command is not None:
            return command
    command = world.global_commands.get(root)
    if command is None:
        synced = sorted(world.global_commands) + sorted(
            f"{name} (guild {gid})" for gid, cmds in world.guild_commands.items() for name in cmds
        )
        raise LookupError(f"command {root!r} was never synced; synced: {synced or 'none'}")
    return command


def build_command_options(
    emulator: Emulator,
    command: dict[str, Any],
    qualified_name: str,
    options: Mapping[str, Any],
    *,
    guild: Guild | None,
    focused: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Interaction ``options`` (nested for subcommands) and ``resolved`` for a command call.

    Option types come from the synced definition; values are checked as Discord's client
    would (required options, choices, ranges).
    """
    definitions: list[dict[str, Any]] = command.get("options") or []
    chain: list[dict[str, Any]] = []
    for name in qualified_name.split()[1:]:
        match = next((d for d in definitions if d.get("name") == name), None)
        if match is None or match.get("type") not in (1, 2):
            raise LookupError(f"{qualified_name!r}: no subcommand {name!r}")
        chain.append(match)
        definitions = match.get("options") or []
    subcommands = [d["name"] for d in definitions if d.get("type") in (1, 2)]
    if subcommands:
        raise LookupError(f"{qualified_name!r} needs a subcommand, one of {subcommands}")
    resolved: dict[str, Any] = {}
    built = _leaf_options(emulator, definitions, options, resolved, guild=guild, focused=focused)
    for definition in reversed(chain):
        built = [{"name": definition["name"], "type": definition["type"], "options": built}]
    return built, resolved


def _leaf_options(
    emulator: Emulator,
    definitions: list[dict[str, Any]],
    options: Mapping[str, Any],
    resolved: dict[str, Any],
    *,
    guild: Guild | None,
    focused: str | None,
) -> list[dict[str, Any]]:
    by_name = {d["name"]: d for d in definitions}
    unknown = set(options) - set(by_name)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; the command has {sorted(by_name)}")
    built = []
    for definition in definitions:
        name = definition["name"]
        if name not in options:
            if definition.get("required") and focused is None:
                raise ValueError(f"missing required option {name!r}")
            continue
        value = options[name]
        kind = int(definition["type"])
        option: dict[str, Any] = {"name": name, "type": kind}
        if name == focused:
            option.update(value=str(value), focused=True)
        else:
            option["value"] = _option_value(emulator, definition, value, resolved, guild=guild)
        built.append(option)
    return built


def _option_value(
    emulator: Emulator,
    definition: dict[str, Any],
    value: Any,
    resolved: dict[str, Any],
    *,
    guild: Guild | None,
) -> Any:
    kind = int(definition["type"])
    name = definition["name"]
    world = emulator.world
    if kind in (OptionType.STRING, OptionType.INTEGER, OptionType.NUMBER, OptionType.BOOLEAN):
        value = _check_scalar(definition, value)
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            allowed = [c["value"] for c in choices]
            raise ValueError(f"option {name!r}: {value!r} is not one of the choices {allowed}")
        return value
    if kind == OptionType.ATTACHMENT:
        upload = (
            value if isinstance(value, UploadedFile) else UploadedFile("file.bin", bytes(value))
        )
        attachment = emulator.store_upload(upload)
        resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.payload()
        return str(attachment.id)
    snowflake = int(getattr(value, "id", value))
    if kind == OptionType.CHANNEL:
        channel = world.channels.get(snowflake)
        if channel is None:
            raise ValueError(f"option {name!r}: no channel {snowflake}")
        allowed_types = definition.get("channel_types")
        if allowed_types and channel.type not in allowed_types:
            raise ValueError(f"option {name!r}: channel type {channel.type} not in {allowed_types}")
        data = world.channel_payload(channel)
        data["permissions"] = str(world.channel_permissions(channel, world.bot_user.id))
        resolved.setdefault("channels", {})[str(snowflake)] = data
        return str(snowflake)
    if (
        guild is not None
        and snowflake in guild.roles
        and kind in (OptionType.ROLE, OptionType.MENTIONABLE)
    ):
        resolved.setdefault("roles", {})[str(snowflake)] = guild.roles[snowflake].payload()
        return str(snowflake)
    if kind in (OptionType.USER, OptionType.MENTIONABLE):
        user = world.users.get(snowflake)
        if user is None:
            raise ValueError(f"option {name!r}: no user {snowflake}")
        resolved.setdefault("users", {})[str(snowflake)] = user.payload()
        member = guild.members.get(snowflake) if guild is not None else None
        if member is not None:
            data = world.member_payload(
                member, permissions=world.member_permissions(guild, snowflake)
            )
            data.pop("user")
            resolved.setdefault("members", {})[str(snowflake)] = data
        return str(snowflake)
    raise ValueError(f"option {name!r}: {value!r} does not fit option type {kind}")


def _check_scalar(definition: dict[str, Any], value: Any) -> Any:
    kind = int(definition["type"])
    name = definition["name"]
    if kind == OptionType.STRING:
        if not isinstance(value, str):
            raise TypeError(f"option {name!r} is a string option, got {value!r}")
        low, high = definition.get("min_length"), definition.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise ValueError(f"option {name!r}: length {len(value)} outside [{low}, {high}]")
        return value
    if kind == OptionType.BOOLEAN:
        if not isinstance(value, bool):
            raise TypeError(f"option {name!r} is a boolean option, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"option {name!r} is numeric, got {value!r}")
    if kind == OptionType.INTEGER and not float(value).is_integer():
        raise TypeError(f"option {name!r} is an integer option, got {value!r}")
    low, high = definition.get("min_value"), definition.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"option {name!r}: {value} outside [{low}, {high}]")
    return int(value) if kind == OptionType.INTEGER else float(value)


def interaction_channel_payload(world: World, channel_id: int, user_id: int) -> dict[str, Any]:
    """The ``channel`` object an interaction carries (with the caller's permissions)."""
    channel = world.channels[channel_id]
    data = world.channel_payload(channel)
    if channel.type != ChannelType.DM:
        data["permissions"] = str(world.channel_permissions(channel, user_id))
    return data
