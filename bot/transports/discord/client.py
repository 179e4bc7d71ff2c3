"""The discord.py Bot subclass and how it starts: cogs, command sync, guild clean-up."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

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

__all__ = ["NewsBot", "build_bot", "point_discord_at", "run_bot"]

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
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=NewsTree,
        )
        self.services = services
        self.page_book = PageBook()
        self._sync_state = sync_state
        self._dev_guild_id = dev_guild_id
        self._on_first_ready: Callable[[], None] | None = None
        self._disconnected_since: float | None = time.monotonic()

    async def setup_hook(self) -> None:
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

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Leaving a server forgets its feeds, subscriptions and schedules."""
        await asyncio.to_thread(self.services.store.delete_guild, guild.id)
        log.info("left guild %s: its feeds, subscriptions and schedules were deleted", guild.id)


def point_discord_at(settings: DiscordSettings) -> None:
    """Aim discord.py's REST and gateway clients at the configured endpoints (a proxy, or the
    test emulator). discord.py keeps both as class attributes."""
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def build_bot(services: Services, settings: DiscordSettings) -> NewsBot:
    """The bot, aimed at the configured Discord endpoints."""
    point_discord_at(settings)
    return NewsBot(
        services,
        sync_state=services.settings.data_dir / "command-sync.json",
        dev_guild_id=services.settings.dev_guild_id,
    )


async def run_bot(bot: NewsBot, settings: DiscordSettings) -> None:
    """Connect and serve until the process is stopped; a rejected token is a ConfigError."""
    async with bot:
        try:
            await bot.start(settings.token)
        except discord.LoginFailure as error:
            raise ConfigError("DISCORD_TOKEN", "Discord rejected the token") from error
        except discord.PrivilegedIntentsRequired as error:
            raise ConfigError("DISCORD_TOKEN", "the application lacks a required intent") from error


def _read_json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
