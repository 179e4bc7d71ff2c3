"""/follow, /following, /unfollow, /recap and /ask: developing stories and the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.answers import answer_page, recap_pages
from bot.render.sanitize import safe_title
from bot.services.recap import MAX_DAYS
from bot.services.validation import MAX_QUERY_CHARS
from bot.transports.discord.cogs.news import send_pages
from bot.transports.discord.follow_button import followed_reply
from bot.transports.discord.messages import reply, send_page, think_in_public

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["StoriesCog"]

Days = app_commands.Range[int, 1, MAX_DAYS]
Text = app_commands.Range[str, 1, MAX_QUERY_CHARS]


class StoriesCog(commands.Cog):
    """Follow a developing story; recap a topic; ask the archive."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @app_commands.command(name="follow")
    @app_commands.describe(story="A recent story (start typing its headline)")
    async def follow(self, interaction: discord.Interaction, story: Text) -> None:
        """Follow a developing story: one DM card, updated in place as it develops."""
        headline, new = await self._services.follows.follow(
            interaction.guild_id or 0, interaction.user.id, story
        )
        await reply(interaction, followed_reply(headline, new), ephemeral=True)

    @follow.autocomplete("story")
    async def story_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        stories = await self._services.follows.recent_stories(current)
        return [app_commands.Choice(name=title, value=story) for story, title in stories]

    @app_commands.command(name="following")
    async def following(self, interaction: discord.Interaction) -> None:
        """The stories you follow."""
        follows = await self._services.follows.following(interaction.user.id)
        if not follows:
            text = "You follow no story. Press Follow under an alert, or use /follow."
        else:
            lines = [
                f"#{f.id} **{safe_title(f.headline or f.story_id, 150)}**"
                + (" (gone quiet)" if f.status == "quiet" else "")
                for f in follows
            ]
            text = "You follow:\n" + "\n".join(lines)
        await reply(interaction, text[:2000], ephemeral=True)

    @app_commands.command(name="unfollow")
    @app_commands.describe(story="The story to stop following")
    async def unfollow(self, interaction: discord.Interaction, story: Text) -> None:
        """Stop following a story."""
        ended = await self._services.follows.unfollow(interaction.user.id, story)
        title = safe_title(ended.headline or ended.story_id, 150)
        await reply(interaction, f"Stopped following **{title}**.", ephemeral=True)

    @unfollow.autocomplete("story")
    async def followed_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        follows = await self._services.follows.following(interaction.user.id)
        wanted = current.casefold()
        return [
            app_commands.Choice(name=safe_title(f.headline or f.story_id, 100), value=str(f.id))
            for f in follows
            if wanted in f.headline.casefold()
        ][:25]

    @app_commands.command(name="recap")
    @app_commands.describe(
        query='A topic: words, "phrases", OR, NOT, source:host',
        days="How many days back (1 to 30, default 7)",
    )
    @app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))
    async def recap(self, interaction: discord.Interaction, query: Text, days: Days = 7) -> None:
        """A dated timeline of a story: one quoted line per development, oldest first."""
        await think_in_public(interaction)
        recap = await self._services.recap.recap(query, days, guild_id=interaction.guild_id or 0)
        await send_pages(interaction, recap_pages(recap))

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What you want to know", days="Only articles from the last days (1 to 30)"
    )
    @app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))
    async def ask(
        self, interaction: discord.Interaction, question: Text, days: Days | None = None
    ) -> None:
        """An answer quoted from stored articles, with sources (never in the bot's words)."""
        await think_in_public(interaction)
        answer = await self._services.ask.ask(question, days, guild_id=interaction.guild_id or 0)
        await send_page(interaction, answer_page(answer))
