"""Messages that follow a developing story, and the store methods that keep them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["FollowStore", "StoryMessage"]


@dataclass(frozen=True, slots=True)
class StoryMessage:
    """A message kept up to date with its story: a member's ``card`` (in DMs) or a channel's
    ``alert``. ``status``: ``active``, ``quiet`` (no news for its window) or ``ended``."""

    id: int
    guild_id: int
    story_id: str
    kind: str
    recipient_type: str
    recipient_id: int
    message_id: str | None
    status: str
    ended_reason: str | None
    headline: str
    shown: tuple[str, ...]
    """The sentences the message already quotes (a "New:" line must add to them)."""
    article_count: int
    """How many of the story's articles the message showed last."""
    edits: int
    created_at: datetime
    edited_at: datetime | None


class FollowStore(Protocol):
    """What following stories needs from the store (``bot.storage.follows``)."""

    def follow_story(
        self, guild_id: int, user_id: int, story_id: str, headline: str, at: datetime
    ) -> tuple[StoryMessage, bool]:
        """Start a member's follow and enqueue its DM card, at once; (follow, is new)."""
        ...

    def story_follows(self, user_id: int) -> list[StoryMessage]:
        """A member's follows that have not ended, newest first."""
        ...

    def end_story_message(
        self, story_message_id: int, reason: str, *, user_id: int | None = None
    ) -> StoryMessage | None:
        """Stop updating a message; None when there was no active one."""
        ...

    def get_story_message(self, story_message_id: int) -> StoryMessage | None:
        """One story message by id."""
        ...

    def active_story_messages(self, story_ids: Sequence[str]) -> list[StoryMessage]:
        """Messages still following any of these stories."""
        ...

    def mark_delivered_tracking(
        self,
        delivery_id: int,
        message_id: str,
        at: datetime,
        *,
        story_id: str,
        guild_id: int,
        recipient_type: str,
        recipient_id: int,
        kind: str,
        headline: str,
        shown: Sequence[str],
        article_count: int,
    ) -> None:
        """Mark a delivery sent and, in the same transaction, track the message it made."""
        ...

    def record_story_edit(
        self,
        delivery_id: int,
        story_message_id: int,
        at: datetime,
        *,
        shown: Sequence[str],
        article_count: int,
        status: str = "active",
    ) -> None:
        """An edit was made: the delivery is sent, the message remembers what it shows."""
        ...

    def postpone_delivery(self, delivery_id: int, until: datetime) -> None:
        """Make a claimed delivery due at ``until`` without counting an attempt."""
        ...

    def quiet_story_messages(self, before: datetime) -> list[StoryMessage]:
        """Active messages whose story had no new article since ``before``."""
        ...
