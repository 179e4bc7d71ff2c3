"""/brief, /latest, /search and /summarize: for every member."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.embeds import (
    MessagePage,
    articles_page,
    briefing_pages,
    search_pages,
    summary_embed,
)
from bot.services.validation import MAX_HOURS, MAX_QUERY_CHARS
from bot.transports.discord.follow_button import add_follow_buttons
from bot.transports.discord.messages import reply, send_page, think_in_public
from bot.transports.discord.views import page_book, page_controls, page_text

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["NewsCog", "send_pages"]

Hours = app_commands.Range[int, 1, MAX_HOURS]
Query = app_commands.Range[str, 1, MAX_QUERY_CHARS]


class NewsCog(commands.Cog):
    """What is happening: briefings, the latest articles, search, page summaries."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @app_commands.command(name="brief")
    @app_commands.describe(
        topic="Only stories about this (words, or a phrase in quotes)",
        hours="How far back to look, in hours (default 24)",
    )
    async def brief(
        self,
        interaction: discord.Interaction,
        topic: Query | None = None,
        hours: Hours | None = None,
    ) -> None:
        """The top stories of the last hours, one summary each."""
        await think_in_public(interaction)
        briefing = await self._services.briefings.brief(topic=topic, hours=hours)
        await send_pages(interaction, briefing_pages(briefing))

    @app_commands.command(name="latest")
    @app_commands.describe(
        source="Only articles from this source (name or web address)",
        count="How many articles (1 to 25, default 5)",
    )
    async def latest(
        self,
        interaction: discord.Interaction,
        source: app_commands.Range[str, 1, 100] | None = None,
        count: app_commands.Range[int, 1, 25] = 5,
    ) -> None:
        """The newest articles."""
        await think_in_public(interaction)
        articles = await self._services.search.latest(count=count, source=source)
        heading = f"Latest from {source}" if source else "Latest articles"
        await send_pages(interaction, articles_page(articles, heading))

    @app_commands.command(name="search")
    @app_commands.describe(
        query='Words to find: "quoted phrases", OR, NOT (or -word), source:host',
        hours="Only articles from the last hours (default: all stored)",
    )
    @app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))
    async def search(
        self, interaction: discord.Interaction, query: Query, hours: Hours | None = None
    ) -> None:
        """Search stored articles, best matches first."""
        await think_in_public(interaction)
        hits = await self._services.search.search(query, hours=hours)
        await send_pages(interaction, search_pages(query, hits))

    @app_commands.command(name="summarize")
    @app_commands.describe(url="The web address of an article")
    @app_commands.checks.cooldown(2, 60.0, key=lambda i: (i.guild_id, i.user.id))
    async def summarize(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 1, 2048]
    ) -> None:
        """Fetch any article page and summarise it."""
        await think_in_public(interaction)
        page = await self._services.summaries.summarize_url(url)
        summary = page.summary
        embed = summary_embed(page.title, page.url, summary.sentences, summary.sentence_count)
        await reply(interaction, embeds=[discord.Embed.from_dict(embed)])


async def send_pages(interaction: discord.Interaction, pages: Sequence[MessagePage]) -> None:
    """The first page, with Previous/Next buttons only its requester can press when there
    are more."""
    if len(pages) <= 1:
        page = pages[0] if pages else MessagePage(content="Nothing found.", embeds=())
        view = None
        if page.follow:
            view = discord.ui.View(timeout=None)
            add_follow_buttons(view, page.follow, first_row=0)
        await send_page(interaction, page, view=view)
        return
    key = page_book(interaction).add(interaction.user.id, pages)
    first = pages[0]
    await send_page(
        interaction,
        MessagePage(content=page_text(first, 0, len(pages)), embeds=first.embeds),
        view=page_controls(key, 0, len(pages), first.follow),
    )
