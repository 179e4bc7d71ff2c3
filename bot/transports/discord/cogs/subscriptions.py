"""/subscribe, /unsubscribe and /subscriptions: a member's topic alerts (answers are private)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.embeds import split_content
from bot.render.sanitize import safe_text
from bot.transports.discord.messages import reply

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["SubscriptionsCog"]


class SubscriptionsCog(commands.Cog):
    """Topic alerts: follow a query, by DM or in a channel."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @app_commands.command(name="subscribe")
    @app_commands.guild_only()
    @app_commands.describe(
        query='What to follow: words, "phrases", AND / OR / NOT, (groups), source:host',
        delivery="dm: alerts by direct message; here: in this channel",
        breaking="Breaking mode: alert only once this many sources report the story",
        within="Breaking mode: the sources must report it within this many minutes",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        delivery: Literal["dm", "here"] = "dm",
        breaking: app_commands.Range[int, 2, 10] | None = None,
        within: app_commands.Range[int, 5, 1440] = 60,
    ) -> None:
        """Get an alert when a story matching your query appears."""
        assert interaction.guild_id is not None and interaction.channel_id is not None
        subscription = await self._services.subscriptions.subscribe(
            interaction.guild_id,
            interaction.user.id,
            query,
            delivery,
            interaction.channel_id,
            breaking_sources=breaking,
            breaking_minutes=within,
        )
        where = "by direct message" if delivery == "dm" else f"in <#{interaction.channel_id}>"
        await reply(
            interaction,
            f"Subscribed (#{subscription.id}) to “{safe_text(subscription.query)}”; "
            f"matching stories will reach you {where}.",
            ephemeral=True,
        )

    @app_commands.command(name="unsubscribe")
    @app_commands.guild_only()
    @app_commands.describe(subscription="The subscription to stop")
    async def unsubscribe(self, interaction: discord.Interaction, subscription: int) -> None:
        """Stop one of your topic alerts."""
        assert interaction.guild_id is not None
        await self._services.subscriptions.unsubscribe(
            interaction.guild_id, interaction.user.id, subscription
        )
        await reply(interaction, f"Unsubscribed from #{subscription}.", ephemeral=True)

    @unsubscribe.autocomplete("subscription")
    async def _subscription_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        mine = await self._services.subscriptions.list(interaction.guild_id, interaction.user.id)
        needle = current.lower()
        return [
            app_commands.Choice(name=f"#{s.id} {s.query} ({s.delivery})"[:100], value=s.id)
            for s in mine
            if needle in f"#{s.id} {s.query}".lower()
        ][:25]

    @app_commands.command(name="subscriptions")
    @app_commands.guild_only()
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        """List your topic alerts on this server."""
        assert interaction.guild_id is not None
        mine = await self._services.subscriptions.list(interaction.guild_id, interaction.user.id)
        if not mine:
            await reply(
                interaction, "You have no subscriptions here. Try /subscribe.", ephemeral=True
            )
            return
        lines = [
            f"#{s.id} “{safe_text(s.query)}” · "
            + ("by DM" if s.delivery == "dm" else f"in <#{s.channel_id}>")
            + ("" if s.active else f" · paused: {safe_text(s.disabled_reason or 'disabled')}")
            for s in mine
        ]
        for chunk in split_content("Your subscriptions:\n" + "\n".join(lines)):
            await reply(interaction, chunk, ephemeral=True)
