"""Previous/Next buttons over rendered pages, pressable only by whoever asked.

The buttons are dynamic items: a button's custom id names its answer (a key into the bot's
:class:`PageBook`) and the page it shows, so a press is handled whenever it arrives, even
before discord.py has registered the message's view. When the pages are gone (the book is
bounded, and a restart empties it) the member is told to ask again.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.render.embeds import MessagePage
from bot.transports.discord.follow_button import add_follow_buttons
from bot.transports.discord.messages import NO_MENTIONS, embeds_of

__all__ = ["PageBook", "PageButton", "PagedAnswer", "page_book", "page_controls", "page_text"]

_NOT_YOURS = "Only the member who asked can turn these pages; run the command yourself."
_EXPIRED = "These pages have expired; run the command again."


@dataclass(frozen=True, slots=True)
class PagedAnswer:
    """The pages of one answer and the member who asked for it."""

    owner_id: int
    pages: tuple[MessagePage, ...]
    created: float


class PageBook:
    """The pages of recent paged answers: at most ``capacity``, each for ``lifetime`` s."""

    def __init__(
        self,
        *,
        capacity: int = 256,
        lifetime: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._answers: OrderedDict[str, PagedAnswer] = OrderedDict()
        self._capacity = capacity
        self._lifetime = lifetime
        self._clock = clock

    def add(self, owner_id: int, pages: Sequence[MessagePage]) -> str:
        """Keep ``pages`` for ``owner_id``; returns the key the buttons carry."""
        key = secrets.token_hex(8)
        self._answers[key] = PagedAnswer(owner_id, tuple(pages), self._clock())
        while len(self._answers) > self._capacity:
            self._answers.popitem(last=False)
        return key

    def get(self, key: str) -> PagedAnswer | None:
        """The answer behind ``key``; None once it expired or was pushed out."""
        answer = self._answers.get(key)
        if answer is not None and self._clock() - answer.created > self._lifetime:
            del self._answers[key]
            return None
        return answer


class _HasPageBook(Protocol):
    page_book: PageBook


def page_text(page: MessagePage, index: int, count: int) -> str:
    """A page's content with its "Page i of n" footer."""
    return f"{page.content}\n-# Page {index + 1} of {count}".strip()


def page_controls(key: str, index: int, count: int, follow: Sequence[str] = ()) -> discord.ui.View:
    """The Previous/Next buttons for page ``index`` of ``count``, and a Follow button for
    each story the page shows."""
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(key, "previous", max(index - 1, 0), disabled=index == 0))
    view.add_item(PageButton(key, "next", min(index + 1, count - 1), disabled=index >= count - 1))
    add_follow_buttons(view, follow, first_row=1)
    return view


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(
        r"pages:(?P<key>[0-9a-f]{16}):(?P<direction>previous|next):(?P<index>\d{1,4})"
    ),
):
    """Shows page ``index`` of the answer ``key`` to the member who asked for it."""

    def __init__(self, key: str, direction: str, index: int, *, disabled: bool = False) -> None:
        style = discord.ButtonStyle.secondary
        if direction == "next":
            style = discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=direction.capitalize(),
                style=style,
                custom_id=f"pages:{key}:{direction}:{index}",
                disabled=disabled,
            )
        )
        self.key = key
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> PageButton:
        return cls(match["key"], match["direction"], int(match["index"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        answer = page_book(interaction).get(self.key)
        refusal = _EXPIRED if answer is None else None
        if answer is not None and interaction.user.id != answer.owner_id:
            refusal = _NOT_YOURS
        if refusal is None:
            return True
        await interaction.response.send_message(
            refusal, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        answer = page_book(interaction).get(self.key)
        if answer is None:  # expired since the check
            await interaction.response.send_message(
                _EXPIRED, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        count = len(answer.pages)
        index = max(0, min(self.index, count - 1))
        page = answer.pages[index]
        await interaction.response.edit_message(
            content=page_text(page, index, count),
            embeds=embeds_of(page),
            view=page_controls(self.key, index, count, page.follow),
            allowed_mentions=NO_MENTIONS,
        )


def page_book(interaction: discord.Interaction[Any]) -> PageBook:
    """The bot's page book (``NewsBot.page_book``)."""
    client: _HasPageBook = interaction.client
    return client.page_book
