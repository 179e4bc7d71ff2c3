"""Sending what the render layer built: embeds from dicts, never a ping from feed text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.render.embeds import MessagePage

__all__ = [
    "NO_MENTIONS",
    "PUBLIC_PLACEHOLDER",
    "embeds_of",
    "reply",
    "send_page",
    "think_in_public",
]

PUBLIC_PLACEHOLDER = "newsbot.public_placeholder"
"""Set in ``Interaction.extras`` when a public "thinking…" message stands in for the answer."""

NO_MENTIONS = discord.AllowedMentions.none()


def embeds_of(page: MessagePage) -> list[discord.Embed]:
    """The page's embed dicts as discord.py embeds."""
    return [discord.Embed.from_dict(embed) for embed in page.embeds]


async def think_in_public(interaction: discord.Interaction) -> None:
    """Defer with a public "thinking…" placeholder (slow answers everyone should see)."""
    await interaction.response.defer(thinking=True)
    interaction.extras[PUBLIC_PLACEHOLDER] = True


async def reply(
    interaction: discord.Interaction,
    content: str = "",
    *,
    embeds: Sequence[discord.Embed] = (),
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
) -> None:
    """Answer an interaction, as its first response or as a followup when deferred."""
    options: dict[str, Any] = {
        "content": content or None,
        "embeds": list(embeds),
        "ephemeral": ephemeral,
        "allowed_mentions": NO_MENTIONS,
    }
    if view is not None:
        options["view"] = view
    if file is not None:
        options["file"] = file
    if interaction.response.is_done():
        await interaction.followup.send(**options)
    else:
        await interaction.response.send_message(**options)


async def send_page(
    interaction: discord.Interaction,
    page: MessagePage,
    *,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
) -> None:
    """Answer with one rendered page."""
    await reply(interaction, page.content, embeds=embeds_of(page), ephemeral=ephemeral, view=view)
