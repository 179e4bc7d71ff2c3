"""Following a developing story: a member's one DM story card, and channel alerts, edited in
place as the story gains articles. Every send and edit goes through the outbox, so each
happens exactly once and survives restarts; edits of one message are rate-limited."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.answers import Quote
from bot.core.errors import DeliveryError, ValidationError
from bot.core.follows import FollowStore, StoryMessage
from bot.core.models import Article, Delivery, Feed, NewArticle, NewDelivery
from bot.core.ports import MessageSink, Store
from bot.pipeline.evidence import SentenceReader, novelty, quotable_sentences
from bot.render.answers import StoryCard, developing_line, story_card_embed
from bot.render.embeds import story_embed
from bot.render.sanitize import safe_title
from bot.services.recap import quote_of
from bot.services.stories import StoryBuilder, group_into_stories
from bot.services.summaries import SummaryService

__all__ = ["FollowService", "StoryUpdatePlanner"]

RECENT_STORIES = timedelta(days=3)
"""What ``/follow`` offers: stories with an article in the last three days."""
AUTOCOMPLETE_CHOICES = 25
CARD_SENTENCES = 3
NEW_LINE_NOVELTY = 0.5
TRACKED_KINDS = ("alert", "post")
"""Channel deliveries whose message follows its story once sent."""


class StoryStore(Store, FollowStore, Protocol):
    """The store following needs: the usual one with story messages."""


class StoryUpdatePlanner:
    """A :class:`bot.core.ports.DeliveryPlanner`: when a feed brings articles that join a
    story, one edit for each message following that story (its key names the message and its
    edit count, so a second article before the edit is made does not queue another)."""

    def __init__(self, store: FollowStore) -> None:
        self._store = store

    def plan(self, feed: Feed, articles: Sequence[NewArticle]) -> dict[str, list[NewDelivery]]:
        joining = [a for a in articles if a.story_id and not a.backfill]
        if not joining:
            return {}
        first_of_story: dict[str, str] = {}
        for article in joining:
            first_of_story.setdefault(article.story_id or "", article.id)
        plans: dict[str, list[NewDelivery]] = {}
        for message in self._store.active_story_messages(list(first_of_story)):
            plans.setdefault(first_of_story[message.story_id], []).append(_edit(message))
        return plans


def _edit(message: StoryMessage, *, quiet: bool = False) -> NewDelivery:
    suffix = "quiet" if quiet else str(message.edits)
    return NewDelivery(
        dedupe_key=f"edit:{message.id}:{suffix}",
        kind="edit",
        guild_id=message.guild_id,
        recipient_type=message.recipient_type,
        recipient_id=message.recipient_id,
        story_id=message.story_id,
        payload=json.dumps({"story_message": message.id, "quiet": quiet}),
    )


class FollowService:
    """``/follow``, ``/following``, ``/unfollow`` and the delivery of cards and edits."""

    def __init__(
        self,
        store: StoryStore,
        summaries: SummaryService,
        clock: Callable[[], datetime],
        *,
        edit_every: timedelta = timedelta(minutes=5),
        quiet_after: timedelta = timedelta(hours=48),
    ) -> None:
        self._store = store
        self._stories = StoryBuilder(summaries)
        self._clock = clock
        self._edit_every = edit_every
        self._quiet_after = quiet_after
        self._reader = SentenceReader()
        self.planner = StoryUpdatePlanner(store)

    # Commands

    async def recent_stories(self, typed: str) -> list[tuple[str, str]]:
        """(story id, headline) of recent stories whose headline holds ``typed``, most
        covered first (``/follow`` autocomplete)."""

        def find() -> list[tuple[str, str]]:
            now = self._clock()
            articles = self._store.articles_between(now - RECENT_STORIES, now, limit=2000)
            wanted = typed.strip().casefold()
            choices = []
            for story in group_into_stories(articles):
                if wanted in story.title.casefold():
                    choices.append((story.id, safe_title(story.title, 100)))
                if len(choices) >= AUTOCOMPLETE_CHOICES:
                    break
            return choices

        return await asyncio.to_thread(find)

    async def follow(self, guild_id: int, user_id: int, story_id: str) -> tuple[str, bool]:
        """Follow a story: its card comes by DM. Returns its headline and whether the
        follow is new."""

        def start() -> tuple[str, bool]:
            articles = self._store.story_articles(story_id.strip())
            if not articles:
                raise ValidationError("I know no such story; pick one from the list")
            headline = group_into_stories(articles)[0].title
            _, new = self._store.follow_story(
                guild_id, user_id, articles[0].story_id, headline, self._clock()
            )
            return headline, new

        return await asyncio.to_thread(start)

    async def following(self, user_id: int) -> list[StoryMessage]:
        """The stories a member follows (quiet ones included)."""
        return await asyncio.to_thread(self._store.story_follows, user_id)

    async def unfollow(self, user_id: int, follow: str) -> StoryMessage:
        """Stop following: ``follow`` is a follow's number or its story's id."""

        def stop() -> StoryMessage:
            mine = self._store.story_follows(user_id)
            chosen = [m for m in mine if follow.strip() in (str(m.id), m.story_id)]
            if not chosen:
                raise ValidationError("you do not follow that story; /following lists yours")
            ended = self._store.end_story_message(chosen[0].id, "unfollowed", user_id=user_id)
            return ended or chosen[0]

        return await asyncio.to_thread(stop)

    async def end_quiet(self) -> int:
        """Stories with no new article for their window stop updating: each message gets a
        last edit saying so. Returns how many went quiet."""

        def expire() -> int:
            now = self._clock()
            quiet = self._store.quiet_story_messages(now - self._quiet_after)
            self._store.enqueue([_edit(message, quiet=True) for message in quiet], now)
            return len(quiet)

        return await asyncio.to_thread(expire)

    # Delivery (called by the outbox sender)

    async def deliver(self, delivery: Delivery, sink: MessageSink) -> str:
        """Send a card or make an edit. Its outcome: ``sent`` (sent or edited), ``retry``
        (the message's rate limit: due again later) or ``empty`` (nothing left to show)."""
        payload = json.loads(delivery.payload or "{}")
        message = await asyncio.to_thread(
            self._store.get_story_message, int(payload.get("story_message", 0))
        )
        now = self._clock()
        if message is None or message.status == "ended":
            await asyncio.to_thread(self._store.mark_failed, delivery.id, "the follow ended")
            return "empty"
        if delivery.kind == "edit":
            if message.message_id is None:  # its card is not sent yet: that send shows it
                await asyncio.to_thread(self._store.mark_failed, delivery.id, "not sent yet")
                return "empty"
            if message.edited_at is not None and now < message.edited_at + self._edit_every:
                later = message.edited_at + self._edit_every
                await asyncio.to_thread(self._store.postpone_delivery, delivery.id, later)
                return "retry"
        view = await asyncio.to_thread(self._view, message, bool(payload.get("quiet")))
        if view is None:
            await asyncio.to_thread(self._store.mark_failed, delivery.id, "the story is gone")
            return "empty"
        page, shown, count = view
        if delivery.kind == "card":
            try:
                message_id = await sink.send(
                    "user", message.recipient_id, page["content"], page["embeds"], delivery.nonce
                )
            except DeliveryError as error:
                if error.permanent:  # DMs closed, or the member is gone: no follow to keep
                    await asyncio.to_thread(
                        self._store.end_story_message, message.id, f"cannot send: {error}"
                    )
                raise
            await asyncio.to_thread(
                self._store.mark_delivered_tracking,
                delivery.id,
                message_id,
                self._clock(),
                story_id=message.story_id,
                guild_id=message.guild_id,
                recipient_type="user",
                recipient_id=message.recipient_id,
                kind="card",
                headline=message.headline,
                shown=shown,
                article_count=count,
            )
            return "sent"
        try:
            await sink.edit(
                message.recipient_type,
                message.recipient_id,
                message.message_id,
                page["content"],
                page["embeds"],
            )
        except DeliveryError as error:
            if error.permanent:  # deleted, or no access any more: the follow simply ends
                await asyncio.to_thread(
                    self._store.end_story_message, message.id, f"message gone: {error}"
                )
            raise
        status = "quiet" if payload.get("quiet") else "active"
        await asyncio.to_thread(
            self._store.record_story_edit,
            delivery.id,
            message.id,
            self._clock(),
            shown=shown,
            article_count=count,
            status=status,
        )
        return "sent"

    def track_sent(self, delivery: Delivery, message_id: str) -> bool:
        """After a channel alert or post was sent: record it, and have it follow its story
        (sync). False when the delivery is not one that follows a story."""
        if delivery.kind not in TRACKED_KINDS or delivery.recipient_type != "channel":
            return False
        if not delivery.story_id:
            return False
        articles = self._store.story_articles(delivery.story_id)
        self._store.mark_delivered_tracking(
            delivery.id,
            message_id,
            self._clock(),
            story_id=delivery.story_id,
            guild_id=delivery.guild_id,
            recipient_type="channel",
            recipient_id=delivery.recipient_id,
            kind="alert",
            headline=articles[0].title if articles else "",
            shown=(),
            article_count=len(articles),
        )
        return True

    def _view(
        self, message: StoryMessage, quiet: bool
    ) -> tuple[dict[str, object], list[str], int] | None:
        """The message's page now, the sentences it quotes, and its article count."""
        articles = self._store.story_articles(message.story_id)
        if not articles:
            return None
        story = self._stories.with_summaries(group_into_stories(articles))[0]
        updated = max(a.first_seen_at for a in articles)
        if message.kind == "alert":
            content = developing_line(len(story.sources), updated, quiet=quiet)
            return {"content": content, "embeds": [story_embed(story)]}, [], len(articles)
        summary = tuple(sentence.text for sentence in story.summary[:CARD_SENTENCES])
        shown = list(message.shown) or list(summary)
        new = self._new_line(articles[message.article_count :], shown) if message.shown else None
        if new is not None:
            shown.append(new.text)
        card = StoryCard(
            headline=story.title,
            url=story.url,
            summary=summary,
            sources=story.sources,
            updated_at=updated,
            new=new,
            quiet=quiet,
        )
        return {"content": "", "embeds": [story_card_embed(card)]}, shown, len(articles)

    def _new_line(self, fresh: Sequence[Article], shown: Sequence[str]) -> Quote | None:
        """The sentence of the newest articles that says most that the card did not."""
        seen = frozenset().union(*(self._reader.terms(sentence) for sentence in shown))
        best: tuple[float, Quote] | None = None
        for article in fresh:
            for position, sentence in quotable_sentences(article.text)[:6]:
                terms = self._reader.terms(sentence)
                share = novelty(terms, seen)
                if share < NEW_LINE_NOVELTY or not terms & seen:
                    continue  # nothing new, or about something else entirely
                score = share / (1 + position / 4)
                if best is None or score > best[0]:
                    best = (score, quote_of(article, sentence, position))
        return best[1] if best else None
