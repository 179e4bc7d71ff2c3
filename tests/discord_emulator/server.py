"""``Emulator``: the Discord REST API and gateway on 127.0.0.1, driven from a test.

async with Emulator() as emu:
    guild = emu.add_guild(name="News")
    channel = emu.add_text_channel(guild.id, "general")
    alice = emu.add_member(guild.id, username="alice")
    ...start the bot with emu.env...
    await emu.wait_for_command_sync()
    interaction = await emu.invoke("brief", options={"topic": "ai"}, user_id=alice.user.id)
    message = await interaction.wait_original()
"""

# ruff: noqa: ASYNC109 - the wait API takes timeouts, like asyncio.wait_for

from __future__ import annotations

import asyncio
import fnmatch
import secrets
import urllib.parse
from collections.abc import Callable, Mapping
from types import EllipsisType, TracebackType
from typing import Any, Protocol, TypeVar

from aiohttp import web

from .gateway import Gateway, Intent
from .interactions import (
    InteractionType,
    RecordedInteraction,
    UploadedFile,
    build_command_options,
    find_command,
    interaction_channel_payload,
)
from .rest import Fault, RecordedRequest, RestApi
from .state import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    Attachment,
    Channel,
    ChannelType,
    CommandSync,
    Guild,
    Member,
    RecordedMessage,
    Role,
    User,
    World,
)
from .validation import ERROR_MESSAGES
from .waiting import Notifier


class _Process(Protocol):
    returncode: int | None


__all__ = ["Emulator"]

T = TypeVar("T")
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class Emulator:
    """An emulated Discord (REST under /api/v10 and the gateway websocket) for one bot.

    ``token=None`` accepts any bot token; set ``token_valid = False`` to reject every
    token (REST answers 401, IDENTIFY is closed with 4004).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        application_id: int | None = None,
        bot_username: str = "newsbot",
        heartbeat_interval: float = 41.25,
        nonce_window: float = 300.0,
        interaction_ack_deadline: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.token_valid = True
        self.nonce_window = nonce_window
        self.interaction_ack_deadline = interaction_ack_deadline
        self.world = World(application_id=application_id, bot_username=bot_username)
        self.notifier = Notifier()
        self.gateway = Gateway(
            self.world,
            self.notifier,
            token_ok=self.token_ok,
            resume_url=lambda: self.gateway_url,
            heartbeat_interval=heartbeat_interval,
        )
        self.rest = RestApi(self)
        self.interactions: list[RecordedInteraction] = []
        self.interactions_by_id: dict[int, RecordedInteraction] = {}
        self.interactions_by_token: dict[str, RecordedInteraction] = {}
        self._claimed: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------------ lifecycle
    async def start(self) -> Emulator:
        """Start serving; ``port=0`` picks a free port (see ``api_base``)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self.rest.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self.rest.serve_attachment
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close gateway connections and the HTTP server."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def watch_process(self, process: _Process) -> None:
        """Make every wait fail at once (BotProcessExitedError) if this bot process exits.

        Takes an ``asyncio.subprocess.Process`` or a ``subprocess.Popen``.
        """

        def exited() -> str | None:
            poll = getattr(process, "poll", None)
            code = poll() if callable(poll) else process.returncode
            return None if code is None else f"the bot process exited with code {code}"

        self.notifier.guard = exited

    # ------------------------------------------------------------------------ addresses
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What to put in ``discord.http.Route.BASE`` (DISCORD_API_BASE)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What to put in ``DiscordWebSocket.DEFAULT_GATEWAY`` (DISCORD_GATEWAY_URL)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing a bot process at this emulator."""
        env = {"DISCORD_API_BASE": self.api_base, "DISCORD_GATEWAY_URL": self.gateway_url}
        env["DISCORD_TOKEN"] = self.token or "emulator-token"
        return env

    def token_ok(self, token: str | None) -> bool:
        """True when this bot token is accepted."""
        if not self.token_valid or not token:
            return False
        return self.token is None or token == self.token

    # ------------------------------------------------------------------------ the world
    @property
    def bot_user(self) -> User:
        """The bot's user (its id is the application id)."""
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        """The application's id."""
        return self.world.application_id

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Test Guild",
        *,
        owner_id: int | None = None,
        everyone_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> Guild:
        """Add a guild the bot is in (GUILD_CREATE is sent if the bot is connected)."""
        guild = self.world.add_guild(
            guild_id,
            name,
            owner_id=owner_id,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
        )
        self._announce(
            "GUILD_CREATE",
            lambda: self.world.guild_payload(guild, all_members=self._session_wants_members()),
        )
        return guild

    def remove_guild(self, guild_id: int) -> Guild:
        """Remove the bot from a guild (GUILD_DELETE)."""
        guild = self.world.remove_guild(guild_id)
        self._announce("GUILD_DELETE", lambda: {"id": str(guild_id), "unavailable": False})
        return guild

    def add_text_channel(
        self,
        guild_id: int,
        name: str = "general",
        *,
        channel_id: int | None = None,
        topic: str | None = None,
        parent_id: int | None = None,
        bot_can_send: bool = True,
        announcement: bool = False,
    ) -> Channel:
        """Add a text (or announcement) channel; ``bot_can_send=False`` denies the bot
        SEND_MESSAGES there (its sends get 403 Missing Permissions)."""
        kind = ChannelType.GUILD_ANNOUNCEMENT if announcement else ChannelType.GUILD_TEXT
        return self._add_channel(guild_id, name, kind, channel_id, topic, parent_id, bot_can_send)

    def add_category(self, guild_id: int, name: str, *, channel_id: int | None = None) -> Channel:
        """Add a category channel."""
        return self._add_channel(
            guild_id, name, ChannelType.GUILD_CATEGORY, channel_id, None, None, True
        )

    def add_voice_channel(
        self, guild_id: int, name: str, *, channel_id: int | None = None
    ) -> Channel:
        """Add a voice channel (useful to test channel-type checks)."""
        return self._add_channel(
            guild_id, name, ChannelType.GUILD_VOICE, channel_id, None, None, True
        )

    def _add_channel(
        self,
        guild_id: int,
        name: str,
        kind: int,
        channel_id: int | None,
        topic: str | None,
        parent_id: int | None,
        bot_can_send: bool,
    ) -> Channel:
        channel = self.world.add_channel(
            guild_id,
            name,
            channel_type=kind,
            channel_id=channel_id,
            topic=topic,
            parent_id=parent_id,
            bot_can_send=bot_can_send,
        )
        self._announce("CHANNEL_CREATE", lambda: self.world.channel_payload(channel))
        return channel

    def add_role(
        self, guild_id: int, name: str, permissions: int, *, role_id: int | None = None
    ) -> Role:
        """Add a role to a guild."""
        role = self.world.add_role(guild_id, name, permissions, role_id)
        self._announce(
            "GUILD_ROLE_CREATE", lambda: {"guild_id": str(guild_id), "role": role.payload()}
        )
        return role

    def add_member(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        username: str | None = None,
        permissions: int | None = None,
        role_ids: tuple[int, ...] | list[int] = (),
        nick: str | None = None,
        bot: bool = False,
        dms_open: bool = True,
    ) -> Member:
        """Add a member; ``permissions`` (an int, e.g. ``discord.Permissions(...).value``)
        becomes a personal role. Without it they have @everyone's permissions."""
        member = self.world.add_member(
            guild_id,
            user_id,
            username,
            permissions=permissions,
            role_ids=role_ids,
            nick=nick,
            bot=bot,
            dms_open=dms_open,
        )
        self._announce(
            "GUILD_MEMBER_ADD",
            lambda: {**self.world.member_payload(member), "guild_id": str(guild_id)},
            intent=Intent.GUILD_MEMBERS,
        )
        return member

    def add_user(
        self, user_id: int | None = None, *, username: str | None = None, dms_open: bool = True
    ) -> User:
        """Add a user who shares no guild with the bot (for DMs); ``dms_open=False`` makes
        DMs to them fail with 50007."""
        return self.world.add_user(user_id, username, dms_open=dms_open)

    def guild(self, guild_id: int | None = None) -> Guild:
        """A guild by id, or the only guild."""
        if guild_id is not None:
            return self.world.guild(guild_id)
        if len(self.world.guilds) != 1:
            raise LookupError(f"{len(self.world.guilds)} guilds: pass guild_id")
        return next(iter(self.world.guilds.values()))

    def channel(self, channel_id: int) -> Channel:
        """A channel by id."""
        return self.world.channels[channel_id]

    def dm_channel(self, user_id: int) -> Channel | None:
        """The bot's DM channel with a user, if the bot opened one."""
        channel_id = self.world.dm_channels.get(user_id)
        return None if channel_id is None else self.world.channels[channel_id]

    def store_upload(self, upload: UploadedFile) -> Attachment:
        """Keep a file a simulated user uploads (served over HTTP like Discord's CDN)."""
        return self.store_attachment(
            0, upload.filename, upload.data, content_type=upload.content_type
        )

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
    ) -> Attachment:
        """Keep an attachment and give it a URL on this emulator."""
        attachment_id = self.world.snowflake()
        quoted = urllib.parse.quote(filename)
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{quoted}"
        attachment = Attachment(attachment_id, filename, data, url, content_type, description)
        self.world.attachments[attachment_id] = attachment
        return attachment

    # ------------------------------------------------------------------------ gateway
    @property
    def identify_count(self) -> int:
        """How many times the bot identified (new sessions)."""
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        """How many successful RESUMEs."""
        return self.gateway.resume_count

    @property
    def connected(self) -> bool:
        """True while the bot's current session has a live websocket."""
        return self.gateway.connection is not None

    @property
    def ack_heartbeats(self) -> bool:
        """Whether heartbeats are ACKed (False simulates a zombie connection)."""
        return self.gateway.ack_heartbeats

    @ack_heartbeats.setter
    def ack_heartbeats(self, value: bool) -> None:
        self.gateway.ack_heartbeats = value

    @property
    def allowed_intents(self) -> int | None:
        """Privileged intents the app may use (None: all); others close IDENTIFY with 4014."""
        return self.gateway.allowed_intents

    @allowed_intents.setter
    def allowed_intents(self, value: int | None) -> None:
        self.gateway.allowed_intents = value

    async def wait_until_connected(self, timeout: float = 10.0) -> None:
        """Wait until the bot has an identified (or resumed) live gateway connection."""
        await self.wait_for(
            lambda: self.connected or None, timeout=timeout, what="a gateway session"
        )

    async def wait_for_identify(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the bot identified ``count`` times in total."""
        await self.wait_for(
            lambda: self.gateway.identify_count >= count or None,
            timeout=timeout,
            what=f"IDENTIFY #{count} (seen {self.gateway.identify_count})",
        )

    async def wait_for_resume(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the bot resumed ``count`` times in total."""
        await self.wait_for(
            lambda: self.gateway.resume_count >= count or None,
            timeout=timeout,
            what=f"RESUME #{count} (seen {self.gateway.resume_count})",
        )

    async def drop_gateway(self, code: int | None = 4000) -> None:
        """Close the bot's websocket with ``code`` (None: cut TCP abruptly). The session
        stays resumable; events sent meanwhile are replayed on RESUME."""
        await self.gateway.drop(code)

    async def send_reconnect(self) -> None:
        """Send opcode 7 RECONNECT (the bot should reconnect and resume)."""
        await self.gateway.send_reconnect()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send opcode 9 INVALID_SESSION (the bot must identify again unless resumable)."""
        await self.gateway.invalidate_session(resumable=resumable)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send any gateway event to the bot's session."""
        if not await self.gateway.dispatch(event, data):
            raise RuntimeError("the bot has no gateway session")

    def _session_wants_members(self) -> bool:
        session = self.gateway.session
        return session is not None and session.wants(Intent.GUILD_MEMBERS)

    def _announce(
        self, event: str, make: Callable[[], dict[str, Any]], *, intent: int | None = None
    ) -> None:
        if self.gateway.session is None:
            return
        task = asyncio.get_running_loop().create_task(
            self.gateway.dispatch(event, make(), intent=intent)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def announce_message(self, event: str, message: RecordedMessage) -> None:
        """Tell the bot about a created/updated message, if its intents ask for it."""
        data = self.world.message_payload(message)
        intent = Intent.GUILD_MESSAGES if message.guild_id is not None else Intent.DIRECT_MESSAGES
        await self.gateway.dispatch(event, data, intent=intent)

    # ------------------------------------------------------------------- interactions
    def _context(
        self, guild_id: int | None, channel_id: int | None, user_id: int | None
    ) -> tuple[Guild, Channel, Member]:
        if guild_id is None and channel_id is not None:
            guild_id = self.world.channels[channel_id].guild_id
        guild = self.guild(guild_id)
        if channel_id is None:
            if not guild.text_channels:
                raise LookupError(f"guild {guild.id} has no text channel: pass channel_id")
            channel = guild.text_channels[0]
        elif channel_id in guild.channels:
            channel = guild.channels[channel_id]
        else:
            raise LookupError(f"channel {channel_id} is not in guild {guild.id}")
        if user_id is None:
            others = [
                m for uid, m in guild.members.items() if not m.user.bot and uid != guild.owner_id
            ]
            member = others[0] if others else guild.members[guild.owner_id]
        else:
            if user_id not in guild.members:
                raise LookupError(f"user {user_id} is not a member of guild {guild.id}")
            member = guild.members[user_id]
        return guild, channel, member

    async def _send_interaction(
        self,
        kind: int,
        name: str,
        data: dict[str, Any],
        *,
        guild: Guild | None,
        channel: Channel,
        user: User,
        member: Member | None,
        locale: str,
        message: RecordedMessage | None = None,
    ) -> RecordedInteraction:
        if self.gateway.session is None or self.gateway.session.invalidated:
            raise RuntimeError("the bot has not identified on the gateway")
        world = self.world
        interaction_id = world.snowflake()
        token = f"emu.{interaction_id}.{secrets.token_urlsafe(24)}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(world.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(world.channel_permissions(channel, world.bot_user.id)),
            "channel_id": str(channel.id),
            "channel": interaction_channel_payload(world, channel.id, user.id),
        }
        if guild is not None and member is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["guild_locale"] = guild.locale
            payload["member"] = world.member_payload(
                member, permissions=world.channel_permissions(channel, user.id)
            )
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
        else:
            payload["user"] = user.payload()
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": "0"}
        if message is not None:
            payload["message"] = world.message_payload(message)
        record = RecordedInteraction(
            id=interaction_id,
            token=token,
            type=kind,
            name=name,
            data=data,
            guild_id=guild.id if guild else None,
            channel_id=channel.id,
            user_id=user.id,
            payload=payload,
            component_message_id=message.id if message else None,
            _emulator=self,
        )
        self.interactions.append(record)
        self.interactions_by_id[record.id] = record
        self.interactions_by_token[token] = record
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        self.notifier.notify()
        return record

    async def _command_interaction(
        self,
        kind: int,
        qualified_name: str,
        options: Mapping[str, Any],
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int | None,
        dm: bool,
        locale: str,
        focused: str | None = None,
    ) -> RecordedInteraction:
        world = self.world
        if dm:
            if user_id is None:
                raise ValueError("a DM invocation needs user_id")
            user = world.users[user_id]
            guild, member, channel = None, None, world.open_dm(user_id)
        else:
            guild, channel, member = self._context(guild_id, channel_id, user_id)
            user = member.user
        command = find_command(world, qualified_name, guild.id if guild else None)
        built, resolved = build_command_options(
            self, command, qualified_name, options, guild=guild, focused=focused
        )
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": command.get("type", 1),
            "options": built,
        }
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._send_interaction(
            kind,
            qualified_name,
            data,
            guild=guild,
            channel=channel,
            user=user,
            member=member,
            locale=locale,
        )

    async def invoke(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> RecordedInteraction:
        """Run a slash command as a user would: ``"feeds add"`` names a subcommand.

        Option values: str/int/float/bool, a channel/user/role id (or object with ``.id``),
        or an ``UploadedFile`` for attachment options. Defaults: the only guild, its first
        text channel, its first member that is neither the bot nor the owner.
        """
        return await self._command_interaction(
            InteractionType.APPLICATION_COMMAND,
            command,
            options or {},
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            dm=dm,
            locale=locale,
        )

    async def autocomplete(
        self,
        command: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> RecordedInteraction:
        """Type ``value`` into option ``focused`` and ask the bot for suggestions
        (``await interaction.wait_autocomplete()`` returns the choices)."""
        return await self._command_interaction(
            InteractionType.AUTOCOMPLETE,
            command,
            {**(options or {}), focused: value},
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            dm=dm,
            locale=locale,
            focused=focused,
        )

    def _component_target(
        self, message: RecordedMessage | int, custom_id: str | None, label: str | None
    ) -> tuple[RecordedMessage, dict[str, Any]]:
        target = message if isinstance(message, RecordedMessage) else self.world.messages[message]
        target = self.world.messages[target.id]
        for component in target.iter_components():
            if component.get("type") in (1, 9, 10, 12, 13, 14, 17):
                continue
            if (custom_id is not None and component.get("custom_id") == custom_id) or (
                custom_id is None and label is not None and component.get("label") == label
            ):
                if component.get("disabled"):
                    raise ValueError(f"component {custom_id or label!r} is disabled")
                if not component.get("custom_id"):
                    raise ValueError(f"component {custom_id or label!r} has no custom_id (a link?)")
                return target, component
        available = [(c.get("custom_id"), c.get("label")) for c in target.iter_components()]
        raise LookupError(
            f"no component {custom_id or label!r} on message {target.id}: {available}"
        )

    async def _component_interaction(
        self,
        message: RecordedMessage | int,
        custom_id: str | None,
        label: str | None,
        user_id: int | None,
        extra: dict[str, Any],
        locale: str,
    ) -> RecordedInteraction:
        target, component = self._component_target(message, custom_id, label)
        if target.deleted:
            raise LookupError(f"message {target.id} was deleted")
        if user_id is None and target.interaction_id is not None:
            user_id = self.interactions_by_id[target.interaction_id].user_id
        data = {"custom_id": component["custom_id"], "component_type": component["type"], **extra}
        channel = self.world.channels[target.channel_id]
        if channel.is_dm:
            user = self.world.users[channel.recipient_id or 0]
            guild, member = None, None
        else:
            guild, channel, member = self._context(channel.guild_id, channel.id, user_id)
            user = member.user
        return await self._send_interaction(
            InteractionType.MESSAGE_COMPONENT,
            component["custom_id"],
            data,
            guild=guild,
            channel=channel,
            user=user,
            member=member,
            locale=locale,
            message=target,
        )

    async def click(
        self,
        message: RecordedMessage | int,
        custom_id: str | None = None,
        *,
        label: str | None = None,
        user_id: int | None = None,
        locale: str = "en-US",
    ) -> RecordedInteraction:
        """Click a button (found by ``custom_id`` or ``label``) on a recorded message.

        The default user is whoever ran the interaction that made the message.
        """
        return await self._component_interaction(message, custom_id, label, user_id, {}, locale)

    async def select(
        self,
        message: RecordedMessage | int,
        custom_id: str,
        values: list[str],
        *,
        user_id: int | None = None,
        locale: str = "en-US",
    ) -> RecordedInteraction:
        """Pick ``values`` in a select menu on a recorded message."""
        return await self._component_interaction(
            message, custom_id, None, user_id, {"values": list(values)}, locale
        )

    async def delete_message(self, message: RecordedMessage | int) -> None:
        """A user (or a moderator) deletes a message: it is gone for the bot too (reading or
        editing it answers 404 / 10008 Unknown Message), and MESSAGE_DELETE is sent."""
        target = self.world.messages[message if isinstance(message, int) else message.id]
        await self.rest._delete(target)

    async def user_message(self, channel_id: int, user_id: int, content: str) -> RecordedMessage:
        """A user posts a message (MESSAGE_CREATE is sent if the bot's intents ask for it;
        without MESSAGE_CONTENT the bot gets an empty content unless it is mentioned)."""
        world = self.world
        channel = world.channels[channel_id]
        message = RecordedMessage(
            id=world.snowflake(),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            author_id=user_id,
            source="user",
            content=content,
        )
        world.messages[message.id] = message
        channel.last_message_id = message.id
        data = world.message_payload(message)
        session = self.gateway.session
        mentioned = f"<@{world.bot_user.id}>" in content
        blind = session is not None and not session.wants(Intent.MESSAGE_CONTENT)
        if channel.guild_id is not None and not mentioned and blind:
            data.update(content="", embeds=[], attachments=[], components=[])
        if channel.guild_id is not None:
            member = world.guild(channel.guild_id).members[user_id]
            data["member"] = {k: v for k, v in world.member_payload(member).items() if k != "user"}
        intent = Intent.GUILD_MESSAGES if channel.guild_id is not None else Intent.DIRECT_MESSAGES
        await self.gateway.dispatch("MESSAGE_CREATE", data, intent=intent)
        self.notifier.notify()
        return message

    # -------------------------------------------------------------------------- queries
    def messages(
        self,
        channel_id: int | None = None,
        *,
        source: str | None = None,
        include_deleted: bool = False,
    ) -> list[RecordedMessage]:
        """Recorded messages in creation order, optionally of one channel and source."""
        return [
            m
            for m in sorted(self.world.messages.values(), key=lambda m: m.id)
            if (channel_id is None or m.channel_id == channel_id)
            and (source is None or m.source == source)
            and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> RecordedMessage:
        """A recorded message by id."""
        return self.world.messages[message_id]

    def dm_messages(self, user_id: int) -> list[RecordedMessage]:
        """Messages the bot sent to a user's DMs."""
        channel = self.dm_channel(user_id)
        return [] if channel is None else self.messages(channel.id)

    async def wait_for(
        self, check: Callable[[], T | None], *, timeout: float = 10.0, what: str = "a condition"
    ) -> T:
        """Wait until ``check()`` returns something other than None/False."""
        return await self.notifier.wait_for(
            check, timeout=timeout, describe=lambda: self._describe(what)
        )

    async def wait_for_message(
        self,
        channel_id: int | None = None,
        *,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        source: str | None = None,
        timeout: float = 10.0,
    ) -> RecordedMessage:
        """The next matching message no earlier ``wait_for_message`` call returned.

        Messages sent before the call count too (the bot may be faster than the test), so
        consecutive calls return consecutive messages. Messages simulated with
        ``user_message`` are left out unless ``source="user"``.
        """
        return (
            await self.wait_for_messages(
                1, channel_id, predicate=predicate, source=source, timeout=timeout
            )
        )[0]

    async def wait_for_messages(
        self,
        count: int,
        channel_id: int | None = None,
        *,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        source: str | None = None,
        timeout: float = 10.0,
    ) -> list[RecordedMessage]:
        """The next ``count`` matching unclaimed messages (see ``wait_for_message``)."""

        def check() -> list[RecordedMessage] | None:
            found = [
                m
                for m in self.messages(channel_id, source=source)
                if m.id not in self._claimed
                and not m.loading
                and (source is not None or m.source != "user")
                and (predicate is None or predicate(m))
            ]
            if len(found) < count:
                return None
            chosen = found[:count]
            self._claimed.update(m.id for m in chosen)
            return chosen

        where = f" in channel {channel_id}" if channel_id else ""
        return await self.wait_for(check, timeout=timeout, what=f"{count} message(s){where}")

    async def wait_for_dm(
        self,
        user_id: int,
        *,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> RecordedMessage:
        """The next unclaimed DM the bot sent to ``user_id``."""

        def check() -> RecordedMessage | None:
            channel = self.dm_channel(user_id)
            if channel is None:
                return None
            for message in self.messages(channel.id):
                if message.id not in self._claimed and (predicate is None or predicate(message)):
                    self._claimed.add(message.id)
                    return message
            return None

        return await self.wait_for(check, timeout=timeout, what=f"a DM to user {user_id}")

    @property
    def command_syncs(self) -> list[CommandSync]:
        """Every bulk command overwrite, in order."""
        return self.world.command_syncs

    def commands(self, guild_id: int | None = None) -> dict[str, dict[str, Any]]:
        """The synced chat-input commands by name (global when ``guild_id`` is None)."""
        return dict(self.world.commands_for(guild_id))

    async def wait_for_command_sync(
        self,
        guild_id: int | EllipsisType | None = ...,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> CommandSync:
        """Wait for the ``count``-th command sync (of one scope: a guild id, or None for
        global; ``...`` for any) and return the latest one."""

        def check() -> CommandSync | None:
            syncs = [
                s for s in self.world.command_syncs if guild_id is ... or s.guild_id == guild_id
            ]
            return syncs[-1] if len(syncs) >= count else None

        scope = (
            "any scope"
            if guild_id is ...
            else ("global" if guild_id is None else f"guild {guild_id}")
        )
        return await self.wait_for(check, timeout=timeout, what=f"command sync #{count} ({scope})")

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded HTTP requests, filtered by method and path glob or route template."""
        return [
            r
            for r in self.rest.requests
            if (method is None or r.method == method)
            and (
                path is None
                or (r.route == path if "{" in path else fnmatch.fnmatchcase(r.path, path))
            )
        ]

    @property
    def unhandled_requests(self) -> list[RecordedRequest]:
        """Requests to routes the emulator does not implement (answered 404/405)."""
        return list(self.rest.unhandled)

    # --------------------------------------------------------------------------- faults
    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        code: int | None = None,
        times: int | None = 1,
        retry_after: float = 0.25,
        is_global: bool = False,
        after_processing: bool = False,
        message: str | None = None,
    ) -> Fault:
        """Make the next ``times`` matching requests fail (``times=None``: all of them).

        ``status`` 429 answers like Discord's rate limiter (``Via``, ``retry_after``,
        ``X-RateLimit-*``); a Discord error ``code`` (50013, 10003, 50007...) picks its
        status and message unless given. ``after_processing`` applies the request first.
        """
        if status is None:
            if code is None:
                raise ValueError("give status or code")
            status = ERROR_MESSAGES.get(code, (400, ""))[0]
        fault = Fault(
            method.upper(),
            path,
            status,
            code,
            times,
            retry_after,
            is_global,
            after_processing,
            message,
        )
        self.rest.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.rest.faults.clear()

    # ------------------------------------------------------------------------- details
    def _describe(self, what: str) -> str:
        recent = self.messages()[-5:]
        lines = [
            what,
            f"  gateway: identified={self.identify_count} resumed={self.resume_count}"
            f" connected={self.connected}",
        ]
        lines.append(f"  last messages: {[(m.channel_id, m.content[:60]) for m in recent]}")
        failed = [
            f"{r.method} {r.path} -> {r.status}" for r in self.rest.requests if r.status >= 400
        ][-5:]
        if failed:
            lines.append(f"  failed requests: {failed}")
        if self.rest.unhandled:
            lines.append(
                f"  unhandled: {[f'{r.method} {r.path}' for r in self.rest.unhandled][-5:]}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Emulator {self.base_url} guilds={len(self.world.guilds)}>"
