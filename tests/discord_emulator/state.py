"""The emulator's in-memory Discord world: users, guilds, channels, messages and commands.

Records here are plain mutable dataclasses (the emulator edits messages in place); the
``World`` turns them into the JSON payloads Discord would send.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "Attachment",
    "Channel",
    "ChannelType",
    "CommandSync",
    "Guild",
    "Member",
    "MessageFlag",
    "Perm",
    "RecordedMessage",
    "Role",
    "SnowflakeFactory",
    "User",
    "World",
]

DISCORD_EPOCH_MS = 1420070400000


class Perm(enum.IntFlag):
    """Discord permission bits used by the emulator (a subset; any int is accepted)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 53) - 1
DEFAULT_MEMBER_PERMISSIONS = int(
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS


class ChannelType(enum.IntEnum):
    """Discord channel types the emulator knows."""

    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5


class MessageFlag(enum.IntFlag):
    """Message flags that matter to tests."""

    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15


class SnowflakeFactory:
    """Makes increasing, time-based snowflakes like Discord's."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


def iso_time(timestamp: float) -> str:
    """Discord's ISO-8601 timestamp for a Unix time."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()


@dataclass
class User:
    """A Discord user (the bot, guild members, DM recipients)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        """The role object as Discord sends it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Channel:
    """A guild channel or a DM channel (``recipient_id`` set, no guild)."""

    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    bot_can_send: bool = True
    recipient_id: int | None = None
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        """True for a DM channel."""
        return self.type == ChannelType.DM


@dataclass
class Member:
    """A user's membership of a guild."""

    user: User
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: float = field(default_factory=time.time)


@dataclass
class Guild:
    """A guild with its roles, channels and members (insertion-ordered)."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    locale: str = "en-US"

    @property
    def text_channels(self) -> list[Channel]:
        """The guild's text and announcement channels, in creation order."""
        kinds = (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT)
        return [c for c in self.channels.values() if c.type in kinds]


@dataclass
class Attachment:
    """A file uploaded with a message, or given to a command's attachment option."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def text(self, encoding: str = "utf-8") -> str:
        """The content decoded as text."""
        return self.data.decode(encoding)

    def payload(self) -> dict[str, Any]:
        """The attachment object as Discord sends it."""
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "description": self.description,
        }


@dataclass
class RecordedMessage:
    """A message the bot (or a simulated user) created, with its edit history.

    ``source`` is one of ``"channel"`` (POST /channels/{id}/messages), ``"interaction"``
    (the original response of an interaction), ``"followup"`` (webhook followup) or
    ``"user"`` (simulated by the test).
    """

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    source: str
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    nonce: str | int | None = None
    enforce_nonce: bool = False
    flags: int = 0
    tts: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    message_reference: dict[str, Any] | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = field(default=None, repr=False)
    webhook_id: int | None = None
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        """True when sent with the EPHEMERAL flag (64)."""
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred ("thinking...") response not yet edited."""
        return bool(self.flags & MessageFlag.LOADING)

    def all_text(self) -> str:
        """Content plus every embed's title, description, fields, footer and author, joined."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(embed.get("title") or "")
            parts.append(embed.get("description") or "")
            for item in embed.get("fields") or []:
                parts.extend([item.get("name") or "", item.get("value") or ""])
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        return "\n".join(part for part in parts if part)

    def iter_components(self) -> list[dict[str, Any]]:
        """Every component, flattened out of action rows and containers."""
        found: list[dict[str, Any]] = []
        stack = list(reversed(self.components))
        while stack:
            component = stack.pop()
            found.append(component)
            children = list(component.get("components") or [])
            if component.get("accessory"):
                children.append(component["accessory"])
            stack.extend(reversed(children))
        return found

    def buttons(self) -> list[dict[str, Any]]:
        """The message's buttons (component type 2)."""
        return [c for c in self.iter_components() if c.get("type") == 2]

    def snapshot(self) -> dict[str, Any]:
        """The editable fields as they are now (kept in ``history`` before each edit)."""
        return {
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "flags": self.flags,
            "attachments": [a.filename for a in self.attachments],
            "edited_at": self.edited_at,
        }


@dataclass(frozen=True)
class CommandSync:
    """One bulk overwrite of application commands (global when ``guild_id`` is None)."""

    guild_id: int | None
    commands: tuple[dict[str, Any], ...]
    at: float

    @property
    def names(self) -> list[str]:
        """The synced commands' names."""
        return [c["name"] for c in self.commands]


class World:
    """Everything the emulated Discord knows, and the payload builders for it."""

    def __init__(self, *, application_id: int | None, bot_username: str) -> None:
        self.snowflake = SnowflakeFactory()
        self.application_id = application_id or self.snowflake()
        self.bot_user = User(id=self.application_id, username=bot_username, bot=True)
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, int] = {}
        self.messages: dict[int, RecordedMessage] = {}
        self.attachments: dict[int, Attachment] = {}
        self.global_commands: dict[str, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[str, dict[str, Any]]] = {}
        self.command_syncs: list[CommandSync] = []
        self.created_at = time.time()
        self._names = itertools.count(1)

    # ----------------------------------------------------------------- building the world
    def add_user(
        self,
        user_id: int | None = None,
        username: str | None = None,
        *,
        bot: bool = False,
        dms_open: bool = True,
    ) -> User:
        """Register (or update) a user."""
        user_id = user_id or self.snowflake()
        user = self.users.get(user_id)
        if user is None:
            user = User(id=user_id, username=username or f"user{next(self._names)}", bot=bot)
            self.users[user_id] = user
        elif username:
            user.username = username
        user.dms_open = dms_open
        return user

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Test Guild",
        *,
        owner_id: int | None = None,
        everyone_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> Guild:
        """Create a guild with its @everyone role, the bot (with a managed role) and an owner."""
        guild_id = guild_id or self.snowflake()
        owner = self.add_user(owner_id, None if owner_id else "owner")
        guild = Guild(id=guild_id, name=name, owner_id=owner.id)
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", everyone_permissions)
        bot_role = Role(
            self.snowflake(), guild_id, self.bot_user.username, bot_permissions, 1, True
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = Member(self.bot_user, guild_id, [bot_role.id])
        guild.members[owner.id] = Member(owner, guild_id)
        self.guilds[guild_id] = guild
        return guild

    def add_role(
        self, guild_id: int, name: str, permissions: int, role_id: int | None = None
    ) -> Role:
        """Add a role to a guild."""
        guild = self.guild(guild_id)
        role = Role(role_id or self.snowflake(), guild_id, name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        channel_type: int = ChannelType.GUILD_TEXT,
        channel_id: int | None = None,
        topic: str | None = None,
        parent_id: int | None = None,
        bot_can_send: bool = True,
    ) -> Channel:
        """Add a channel to a guild."""
        guild = self.guild(guild_id)
        channel = Channel(
            id=channel_id or self.snowflake(),
            type=int(channel_type),
            name=name,
            guild_id=guild_id,
            position=len(guild.channels),
            topic=topic,
            parent_id=parent_id,
            bot_can_send=bot_can_send,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        guild_id: int,
        user_id: int | None = None,
        username: str | None = None,
        *,
        permissions: int | None = None,
        role_ids: tuple[int, ...] | list[int] = (),
        nick: str | None = None,
        bot: bool = False,
        dms_open: bool = True,
    ) -> Member:
        """Add a user to a guild; ``permissions`` gives them a personal role with those bits."""
        guild = self.guild(guild_id)
        user = self.add_user(user_id, username, bot=bot, dms_open=dms_open)
        roles = list(role_ids)
        if permissions is not None:
            roles.append(self.add_role(guild_id, f"{user.username}-permissions", permissions).id)
        member = Member(user, guild_id, roles, nick)
        guild.members[user.id] = member
        return member

    def remove_guild(self, guild_id: int) -> Guild:
        """Forget a guild and its channels."""
        guild = self.guilds.pop(guild_id)
        for channel_id in guild.channels:
            self.channels.pop(channel_id, None)
        self.guild_commands.pop(guild_id, None)
        return guild

    def open_dm(self, user_id: int) -> Channel:
        """The DM channel between the bot and a user (created on first use)."""
        channel_id = self.dm_channels.get(user_id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(id=self.snowflake(), type=ChannelType.DM, recipient_id=user_id)
        self.channels[channel.id] = channel
        self.dm_channels[user_id] = channel.id
        return channel

    # --------------------------------------------------------------------------- lookups
    def guild(self, guild_id: int) -> Guild:
        """The guild with this id (KeyError with a clear message otherwise)."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise KeyError(f"no guild {guild_id} in the emulator") from None

    def member_permissions(self, guild: Guild, user_id: int) -> int:
        """Guild-level permissions of a member: owner and administrators get everything."""
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        value = guild.roles[guild.id].permissions
        if member is not None:
            for role_id in member.role_ids:
                role = guild.roles.get(role_id)
                if role is not None:
                    value |= role.permissions
        if value & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        """A user's permissions in a channel (the bot loses SEND_MESSAGES where it may not send)."""
        if channel.guild_id is None:
            return DEFAULT_MEMBER_PERMISSIONS
        guild = self.guild(channel.guild_id)
        value = self.member_permissions(guild, user_id)
        if user_id == self.bot_user.id and not channel.bot_can_send:
            value &= ~int(Perm.SEND_MESSAGES)
        return value

    def commands_for(self, guild_id: int | None) -> dict[str, dict[str, Any]]:
        """The synced commands of one scope (global when ``guild_id`` is None)."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.get(guild_id, {})

    # -------------------------------------------------------------------------- payloads
    def member_payload(self, member: Member, *, permissions: int | None = None) -> dict[str, Any]:
        """The guild member object; ``permissions`` is added for interactions."""
        payload: dict[str, Any] = {
            "user": member.user.payload(),
            "roles": [str(r) for r in member.role_ids],
            "nick": member.nick,
            "avatar": None,
            "joined_at": iso_time(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload

    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        """The channel object (guild channel or DM)."""
        if channel.is_dm:
            recipient = self.users[channel.recipient_id or 0]
            return {
                "id": str(channel.id),
                "type": channel.type,
                "last_message_id": _opt_str(channel.last_message_id),
                "recipients": [recipient.payload()],
                "flags": 0,
            }
        overwrites = []
        if not channel.bot_can_send:
            overwrites.append(
                {
                    "id": str(self.bot_user.id),
                    "type": 1,
                    "allow": "0",
                    "deny": str(int(Perm.SEND_MESSAGES)),
                }
            )
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "topic": channel.topic,
            "parent_id": _opt_str(channel.parent_id),
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": _opt_str(channel.last_message_id),
            "permission_overwrites": overwrites,
            "flags": 0,
        }

    def guild_payload(
        self, guild: Guild, *, full: bool = True, all_members: bool = True
    ) -> dict[str, Any]:
        """The guild object; ``full`` adds what GUILD_CREATE carries (channels, members...).

        Without ``all_members`` (a session without the GUILD_MEMBERS intent) only the bot's
        own member is listed, as Discord does.
        """
        payload: dict[str, Any] = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "roles": [role.payload() for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
        }
        if full:
            me = guild.members[self.bot_user.id]
            payload.update(
                {
                    "unavailable": False,
                    "large": False,
                    "joined_at": iso_time(me.joined_at),
                    "member_count": len(guild.members),
                    "members": [
                        self.member_payload(m)
                        for m in guild.members.values()
                        if all_members or m.user.id == self.bot_user.id
                    ],
                    "channels": [self.channel_payload(c) for c in guild.channels.values()],
                    "threads": [],
                    "presences": [],
                    "voice_states": [],
                    "stage_instances": [],
                    "guild_scheduled_events": [],
                    "soundboard_sounds": [],
                }
            )
        return payload

    def message_payload(self, message: RecordedMessage) -> dict[str, Any]:
        """The message object as Discord returns it."""
        author = self.users.get(message.author_id) or self.bot_user
        payload: dict[str, Any] = {
            "id": str(message.id),
            "type": 20 if message.source in ("interaction", "followup") else 0,
            "channel_id": str(message.channel_id),
            "author": author.payload(),
            "content": message.content,
            "timestamp": iso_time(message.created_at),
            "edited_timestamp": iso_time(message.edited_at) if message.edited_at else None,
            "tts": message.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(self.application_id)
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        return payload


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)
