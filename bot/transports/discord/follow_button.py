"""The Follow button under alerts and posts: a dynamic item whose custom id names the story,
so a press is handled whenever it arrives, after restarts too."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.core.errors import NewsbotError
from bot.render.sanitize import safe_title
from bot.transports.discord.messages import NO_MENTIONS

if TYPE_CHECKING:
    from bot.services.follows import FollowService

__all__ = ["FollowButton", "add_follow_buttons", "follow_view", "followed_reply"]

_PER_ROW = 5
_ROWS = 5


def follow_view(story_id: str) -> discord.ui.View:
    """A view holding the Follow button of one story."""
    view = discord.ui.View(timeout=None)
    view.add_item(FollowButton(story_id))
    return view


def add_follow_buttons(view: discord.ui.View, story_ids: Sequence[str], *, first_row: int) -> None:
    """One "Follow n" button per story (n: its place on the page), five to a row, from
    ``first_row`` on, as many as the rows left hold."""
    room = (_ROWS - first_row) * _PER_ROW
    for number, story_id in enumerate(list(dict.fromkeys(story_ids))[:room], 1):
        row = first_row + (number - 1) // _PER_ROW
        view.add_item(FollowButton(story_id, label=f"Follow {number}", row=row))


def followed_reply(headline: str, new: bool) -> str:
    """What a member is told after following a story."""
    title = safe_title(headline, 150)
    if not new:
        return f"You already follow **{title}**; its card in your DMs keeps updating."
    return (
        f"Following **{title}**. I'll send you one story card by DM and update it in place "
        "as the story develops (`/unfollow` stops it)."
    )


class FollowButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"follow:(?P<story>[0-9A-Za-z_-]{1,40})"),
):
    """Follows the story it names, for whoever presses it."""

    def __init__(self, story_id: str, *, label: str = "Follow", row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"follow:{story_id}",
                row=row,
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> FollowButton:
        return cls(match["story"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        follows: FollowService = interaction.client.services.follows
        guild_id = interaction.guild_id or 0
        try:
            headline, new = await follows.follow(guild_id, interaction.user.id, self.story_id)
            text = followed_reply(headline, new)
        except NewsbotError as error:
            text = str(error)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
