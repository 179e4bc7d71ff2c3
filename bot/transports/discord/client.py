"""The discord.py Bot subclass and how it starts: cogs, command sync, guild clean-up."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.config import DiscordSettings
from bot.core.errors import ConfigError
from bot.transports.discord.errors import NewsTree, record_command
from bot.transports.discord.follow_button import FollowButton
from bot.transports.discord.messages import NO_MENTIONS
from bot.transports.discord.views import PageBook, PageButton

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["NewsBot", "ShardedNewsBot", "build_bot", "point_discord_at", "run_bot", "run_rest_only"]

log = logging.getLogger(__name__)

GATEWAY_GRACE_SECONDS = 60.0
"""A gateway connection down for longer than this makes the process unhealthy."""


class NewsBot(commands.Bot):
    """newsbot on Discord: app commands only, no privileged intents."""

    def __init__(
        self,
        services: Services,
        *,
        sync_state: Path,
        dev_guild_id: int = 0,
        serve_commands: bool = True,
        **options: Any,
    ) -> None:
        """``serve_commands=False``: a process without the gateway role, which only sends
        messages over REST, neither loads the commands nor syncs them. ``options`` go to
        discord.py (``shard_ids``, ``shard_count``)."""
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=NewsTree,
            **options,
        )
        self.services = services
        self.page_book = PageBook()
        self._sync_state = sync_state
        self._dev_guild_id = dev_guild_id
        self._serve_commands = serve_commands
        self._on_first_ready: Callable[[], None] | None = None
        self._closed = asyncio.Event()
        self._disconnected_since: float | None = time.monotonic()
        self.login_deadline: asyncio.Timeout | None = None
        """Bounds logging in until Discord answers; lifted once it has (set-up follows)."""

    async def setup_hook(self) -> None:
        if self.login_deadline is not None:  # Discord answered: command sync may wait on limits
            self.login_deadline.reschedule(None)
        if not self._serve_commands:
            return
        from bot.transports.discord.cogs import admin, news, stories, subscriptions

        await self.add_cog(news.NewsCog(self.services))
        await self.add_cog(subscriptions.SubscriptionsCog(self.services))
        await self.add_cog(admin.AdminCog(self.services))
        await self.add_cog(stories.StoriesCog(self.services))
        self.add_dynamic_items(PageButton, FollowButton)
        await self.sync_commands_if_changed()

    async def sync_commands_if_changed(self) -> bool:
        """Sync the command definitions when they differ from the last sync (sync is
        rate-limited by Discord). Returns True when a sync happened."""
        guild = discord.Object(id=self._dev_guild_id) if self._dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        definitions = [
            command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)
        ]
        digest = hashlib.sha256(
            json.dumps(definitions, sort_keys=True, default=str).encode()
        ).hexdigest()
        target = f"guild:{self._dev_guild_id}" if guild else "global"
        state = _read_json(self._sync_state)
        if state.get(target) == digest:
            log.info("slash commands unchanged since the last sync (%s)", target)
            return False
        await self.tree.sync(guild=guild)
        state[target] = digest
        self._sync_state.parent.mkdir(parents=True, exist_ok=True)
        self._sync_state.write_text(json.dumps(state, indent=2), encoding="utf-8")
        log.info("synced %d slash commands (%s)", len(definitions), target)
        return True

    def call_when_ready(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, when the bot first connects (a rejected token never does)."""
        self._on_first_ready = callback

    async def gateway_problem(self) -> str | None:
        """A health probe: None while connected (or down only briefly), else for how long
        the gateway connection has been down."""
        since = self._disconnected_since
        if since is None:
            return None
        down = time.monotonic() - since
        if down < GATEWAY_GRACE_SECONDS:
            return None
        return f"gateway disconnected for {down:.0f} s"

    async def on_disconnect(self) -> None:
        if self._disconnected_since is None:
            self._disconnected_since = time.monotonic()

    async def on_resumed(self) -> None:
        self._disconnected_since = None

    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: object
    ) -> None:
        record_command(interaction, outcome="ok")

    async def on_ready(self) -> None:
        self._disconnected_since = None
        log.info("connected to Discord as %s in %d servers", self.user, len(self.guilds))
        if self._on_first_ready is not None:
            start, self._on_first_ready = self._on_first_ready, None
            start()

    async def close(self) -> None:
        await super().close()
        self._closed.set()

    async def wait_closed(self) -> None:
        """Until :meth:`close` has run."""
        await self._closed.wait()

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Leaving a server forgets its feeds, subscriptions and schedules."""
        await asyncio.to_thread(self.services.store.delete_guild, guild.id)
        log.info("left guild %s: its feeds, subscriptions and schedules were deleted", guild.id)


class ShardedNewsBot(NewsBot, commands.AutoShardedBot):
    """newsbot holding some of the application's gateway shards (``[discord]`` settings):
    Discord sends each guild's events to the shard ``(guild_id >> 22) % shard_count``, so
    processes holding different shards split the guilds between them."""


def point_discord_at(settings: DiscordSettings) -> None:
    """Aim discord.py's REST and gateway clients at the configured endpoints (a proxy, or the
    test emulator). discord.py keeps both as class attributes."""
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def build_bot(services: Services, settings: DiscordSettings, *, gateway: bool = True) -> NewsBot:
    """The bot, aimed at the configured Discord endpoints, sharded as configured.
    ``gateway=False``: for sending over REST only (no commands, no shards)."""
    point_discord_at(settings)
    shards = services.settings.discord
    options: dict[str, Any] = {}
    if gateway and shards.shard_count:
        options = {"shard_count": shards.shard_count, "shard_ids": shards.shard_numbers}
    kind = ShardedNewsBot if options else NewsBot
    return kind(
        services,
        sync_state=services.settings.data_dir / "command-sync.json",
        dev_guild_id=services.settings.dev_guild_id,
        serve_commands=gateway,
        **options,
    )


async def run_bot(
    bot: NewsBot, settings: DiscordSettings, *, connect_timeout: float = 10.0
) -> None:
    """Connect and serve until the process is stopped. A rejected token, or a REST API that
    cannot be reached or does not answer within ``connect_timeout`` seconds, is a
    ConfigError."""
    async with bot:
        await _log_in(bot, settings, connect_timeout)
        try:
            await bot.connect()
        except discord.LoginFailure as error:
            raise ConfigError("DISCORD_TOKEN", "Discord rejected the token") from error
        except discord.PrivilegedIntentsRequired as error:
            raise ConfigError("DISCORD_TOKEN", "the application lacks a required intent") from error


async def run_rest_only(
    bot: NewsBot,
    settings: DiscordSettings,
    on_login: Callable[[], None],
    *,
    connect_timeout: float = 10.0,
) -> None:
    """Log in to Discord's REST API without a gateway connection, call ``on_login``, and
    wait until the bot is closed; login fails as :func:`run_bot`'s does."""
    async with bot:
        await _log_in(bot, settings, connect_timeout)
        log.info("logged in to Discord as %s (REST only, no gateway)", bot.user)
        on_login()
        await bot.wait_closed()


async def _log_in(bot: NewsBot, settings: DiscordSettings, connect_timeout: float) -> None:
    """Log in, or a ConfigError naming what went wrong (within ``connect_timeout``)."""
    try:
        async with asyncio.timeout(connect_timeout) as bot.login_deadline:
            await bot.login(settings.token)
    except TimeoutError:
        raise ConfigError(
            "DISCORD_API_BASE",
            f"{settings.api_base} did not answer within {connect_timeout:g} seconds",
        ) from None
    except (OSError, aiohttp.ClientError, ValueError) as error:
        raise ConfigError(
            "DISCORD_API_BASE",
            f"cannot reach {settings.api_base}: {error or type(error).__name__}",
        ) from None
    except discord.LoginFailure as error:
        raise ConfigError("DISCORD_TOKEN", "Discord rejected the token") from error


def _read_json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
