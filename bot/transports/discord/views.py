"""Previous/Next buttons over rendered pages, pressable only by whoever asked."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.render.embeds import MessagePage
from bot.transports.discord.messages import NO_MENTIONS, embeds_of

__all__ = ["Pager"]


class Pager(discord.ui.View):
    """Turns the pages of a long answer; other members get a polite refusal."""

    def __init__(self, pages: Sequence[MessagePage], owner_id: int, *, timeout: float = 600):
        super().__init__(timeout=timeout)
        self._pages = list(pages)
        self._owner_id = owner_id
        self._index = 0
        self._update_buttons()

    @property
    def first_page(self) -> MessagePage:
        return self._pages[0]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self._owner_id:
            return True
        await interaction.response.send_message(
            "Only the member who asked can turn these pages; run the command yourself.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        return False

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self._index - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self._index + 1)

    async def _show(self, interaction: discord.Interaction, index: int) -> None:
        self._index = max(0, min(index, len(self._pages) - 1))
        self._update_buttons()
        page = self._pages[self._index]
        await interaction.response.edit_message(
            content=self._content(page),
            embeds=embeds_of(page),
            view=self,
            allowed_mentions=NO_MENTIONS,
        )

    def content_for_first_page(self) -> str:
        return self._content(self._pages[0])

    def _content(self, page: MessagePage) -> str:
        return f"{page.content}\n-# Page {self._index + 1} of {len(self._pages)}".strip()

    def _update_buttons(self) -> None:
        self.previous.disabled = self._index == 0
        self.next.disabled = self._index >= len(self._pages) - 1
