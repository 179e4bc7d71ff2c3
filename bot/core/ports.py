"""The storage interface the pipeline and services depend on; backends implement it.

Methods are synchronous: callers run them off the event loop (``asyncio.to_thread``) together
with the CPU-bound work around them, so one thread does one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.models import (
    Article,
    Delivery,
    Feed,
    FeedRefresh,
    FeedState,
    NewArticle,
    NewDelivery,
    Schedule,
    SearchHit,
    Subscription,
)
from bot.core.query import Query

__all__ = [
    "DeliveryPlanner",
    "FeedState",
    "HeldLock",
    "MessageSink",
    "NoTelemetry",
    "PollRecord",
    "Store",
    "StoreStats",
    "StoredBatch",
    "Telemetry",
]


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll of a feed leaves to record: when to poll it next, and, when it did not
    change and its refresh left that to the caller, its caching state."""

    feed_id: int
    next_poll_at: datetime
    ttl_minutes: int | None = None
    """Remember the feed's RSS ``<ttl>`` (None keeps the one known)."""
    pause_reason: str | None = None
    """Pause the feed, for this reason."""
    unchanged: FeedState | None = None
    """Record a successful fetch that brought nothing new, with this caching state."""


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """Which of the offered articles were new, and how many were already known."""

    new_ids: tuple[str, ...]
    seen_count: int


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts for status displays."""

    feeds: int
    articles: int
    last_refresh_at: datetime | None


class HeldLock(Protocol):
    """A named lock this process holds (see ``Store.try_lock``); a context manager that
    releases it."""

    name: str

    def held(self) -> bool:
        """Whether the lock is still ours (False once its database connection is lost)."""
        ...

    def release(self) -> None:
        """Let another process take the lock (idempotent)."""
        ...

    def __enter__(self) -> HeldLock: ...

    def __exit__(self, *exc_info: object) -> None: ...


class Store(Protocol):
    """Feeds, articles and their summaries."""

    def add_feed(
        self,
        url: str,
        name: str | None,
        *,
        guild_id: int = 0,
        channel_id: int | None = None,
        extract_full_text: bool = False,
        interval_minutes: int | None = None,
        created_by: int | None = None,
        next_poll_at: datetime | None = None,
    ) -> Feed:
        """Insert a feed, or update the name and options of the same URL in the same guild.

        Without a name the feed is called after its host (or folder) until its first fetch
        brings its own title. ``created_by`` and ``next_poll_at`` are recorded on insert only;
        a feed without a next poll time is due at once."""
        ...

    def get_feed(self, feed_id: int) -> Feed | None:
        """The feed with this id."""
        ...

    def list_feeds(self, guild_id: int | None = None) -> list[Feed]:
        """All feeds, or those of one guild (0 = the config file's)."""
        ...

    def remove_feed(self, feed_id: int) -> bool:
        """Delete a feed; its articles stay. False when it did not exist."""
        ...

    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already stored."""
        ...

    def store_articles(
        self,
        feed_id: int,
        articles: Sequence[NewArticle],
        state: FeedState,
        at: datetime,
        deliveries: Mapping[str, Sequence[NewDelivery]] | None = None,
    ) -> StoredBatch:
        """In one transaction: insert the new articles, link the known ones to this feed,
        save the caching state, mark the feed fetched successfully at ``at``, and enqueue the
        ``deliveries`` planned for each article that turned out to be new."""
        ...

    def record_not_modified(self, feed_id: int, state: FeedState, at: datetime) -> None:
        """A successful fetch that brought nothing new."""
        ...

    def record_feed_error(self, feed_id: int, message: str, at: datetime) -> None:
        """A failed fetch; the feed keeps its caching state."""
        ...

    def articles_between(self, since: datetime, until: datetime, *, limit: int) -> list[Article]:
        """Articles published in [since, until], newest first."""
        ...

    def latest_articles(self, count: int, *, source: str | None = None) -> list[Article]:
        """The newest articles, optionally of one source (name or feed URL host)."""
        ...

    def search(
        self, query: Query | str, *, since: datetime | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Full-text search, best first: a parsed query with its OR, NOT and phrases (its
        ``source:`` filters left to the caller), or text whose every word is required."""
        ...

    def visible_article_ids(self, guild_id: int, article_ids: Sequence[str]) -> set[str]:
        """Which of the articles a guild may see: those that came through a config feed
        (guild 0) or one of that guild's own feeds, never another guild's private ones."""
        ...

    def prune_articles(self, before: datetime) -> int:
        """Delete articles published and first seen before ``before`` (in batches), with
        their feed links, search entries and the briefing records of stories left empty;
        and deliveries finished before it. Returns how many articles went."""
        ...

    def save_summaries(self, summaries: Mapping[str, tuple[tuple[str, ...], int]]) -> None:
        """Cache summaries: article id -> (sentences, sentence count of the article)."""
        ...

    def stats(self) -> StoreStats:
        """Counts for ``/news status``."""
        ...

    def add_subscription(
        self,
        guild_id: int,
        user_id: int,
        query: str,
        delivery: str,
        channel_id: int | None,
        at: datetime,
        *,
        breaking_sources: int | None = None,
        breaking_minutes: int | None = None,
    ) -> Subscription:
        """Store a subscription (already validated)."""
        ...

    def list_subscriptions(self, guild_id: int, user_id: int | None = None) -> list[Subscription]:
        """A guild's subscriptions, or one member's."""
        ...

    def active_subscriptions(self) -> list[Subscription]:
        """Every active subscription."""
        ...

    def remove_subscription(self, guild_id: int, user_id: int, subscription_id: int) -> bool:
        """Delete a member's own subscription; False when there was none."""
        ...

    def add_schedule(
        self,
        guild_id: int,
        channel_id: int,
        time_of_day: str,
        timezone: str,
        days: tuple[int, ...],
        topic: str | None,
        created_by: int,
        at: datetime,
    ) -> Schedule:
        """Store a briefing schedule (already validated)."""
        ...

    def list_schedules(self, guild_id: int | None = None) -> list[Schedule]:
        """All schedules, or a guild's."""
        ...

    def remove_schedule(self, guild_id: int, schedule_id: int) -> bool:
        """Delete a guild's schedule; False when there was none."""
        ...

    def delete_guild(self, guild_id: int) -> None:
        """Forget a guild's feeds, subscriptions and schedules."""
        ...

    def claim_due_feeds(
        self, now: datetime, limit: int, lease_until: datetime, *, owner: str | None = None
    ) -> list[Feed]:
        """Feeds due for a poll, leased until ``lease_until`` to ``owner``."""
        ...

    def release_feed_claims(self, owner: str, now: datetime) -> int:
        """After a restart: the feeds ``owner`` had claimed and not yet recorded are due at
        ``now``. Returns how many."""
        ...

    def schedule_next_poll(
        self,
        feed_id: int,
        at: datetime,
        *,
        ttl_minutes: int | None = None,
        pause_reason: str | None = None,
    ) -> None:
        """When the feed is polled next; a ``pause_reason`` pauses it."""
        ...

    def record_polls(self, polls: Sequence[PollRecord], at: datetime) -> None:
        """In one transaction, for each feed: its unchanged state (a successful fetch at
        ``at``) if given, its next poll time and ``<ttl>``, and its pause."""
        ...

    def resume_feed(self, feed_id: int, at: datetime) -> None:
        """Unpause a feed and poll it at once."""
        ...

    def pause_feed(self, feed_id: int, reason: str) -> Feed | None:
        """Pause a feed that is not paused yet; returns it, or None when it already was (or
        is gone)."""
        ...

    def disable_schedule(self, schedule_id: int, reason: str) -> Schedule | None:
        """Stop a schedule that is still active; returns it, or None when it already was
        stopped (or is gone)."""
        ...

    def enqueue(self, deliveries: Sequence[NewDelivery], at: datetime) -> int:
        """Add deliveries, ignoring known dedupe keys; returns how many were new."""
        ...

    def claim_deliveries(
        self, now: datetime, limit: int, lease_until: datetime, *, owner: str | None = None
    ) -> list[Delivery]:
        """Due deliveries, leased until ``lease_until`` to ``owner``."""
        ...

    def release_claims(self, now: datetime, *, owner: str | None = None) -> int:
        """Make deliveries claimed by a dead process due again: those of ``owner``, or (no
        owner: a single process) every claimed one."""
        ...

    def try_lock(self, name: str) -> HeldLock | None:
        """Take the named lock if no other process holds it; None when one does."""
        ...

    def mark_delivered(self, delivery_id: int, message_id: str, at: datetime) -> None:
        """Record the sent message's id."""
        ...

    def mark_retry(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        """A transient failure: try again at ``retry_at``."""
        ...

    def mark_failed(self, delivery_id: int, error: str) -> None:
        """A permanent failure: never try again."""
        ...

    def hold_delivery(self, delivery_id: int) -> None:
        """Keep a delivery for the recipient's next digest."""
        ...

    def count_sent(
        self, recipient_type: str, recipient_id: int, since: datetime, kinds: Sequence[str]
    ) -> int:
        """Messages of these kinds sent to a recipient since ``since``."""
        ...

    def held_deliveries(self) -> list[Delivery]:
        """Held deliveries grouped by recipient, oldest first."""
        ...

    def digest_held(self, held_ids: Sequence[int], digest: NewDelivery, at: datetime) -> bool:
        """Replace held deliveries by one digest, atomically."""
        ...

    def disable_subscription(self, subscription_id: int, reason: str) -> Subscription | None:
        """Stop a subscription that cannot be delivered."""
        ...

    def story_articles(self, story_id: str) -> list[Article]:
        """The articles of one story, oldest first."""
        ...

    def story_sources_since(self, story_id: str, since: datetime) -> set[str]:
        """Distinct sources that covered a story since ``since``."""
        ...

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        """One subscription by id."""
        ...

    def briefed_story_ids(self, channel_id: int, story_ids: Sequence[str]) -> set[str]:
        """Stories the channel was already briefed on."""
        ...

    def record_schedule_run(
        self,
        schedule: Schedule,
        due: datetime,
        delivery: NewDelivery | None,
        story_ids: Sequence[str],
        at: datetime,
    ) -> bool:
        """Claim one run of a schedule and enqueue its briefing, exactly once."""
        ...


class DeliveryPlanner(Protocol):
    """Decides, while a feed's new articles are stored, who must hear about them."""

    def plan(self, feed: Feed, articles: Sequence[NewArticle]) -> dict[str, list[NewDelivery]]:
        """Deliveries per article id; called with the articles not yet stored (sync)."""
        ...


class MessageSink(Protocol):
    """Where deliveries go: a Discord channel or DM, or the console."""

    async def send(
        self,
        recipient_type: str,
        recipient_id: int,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
        nonce: str,
        *,
        follow: str | None = None,
    ) -> str:
        """Post one message and return its id; raise DeliveryError when it cannot be sent.
        With ``follow`` (a story id) the message offers a Follow button for that story.

        Sending twice with the same ``nonce`` must post one message (Discord's
        ``enforce_nonce``), so a retry after a crash never double-posts."""
        ...

    async def edit(
        self,
        recipient_type: str,
        recipient_id: int,
        message_id: str,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
    ) -> None:
        """Replace a sent message's content and embeds in place; raise DeliveryError when it
        cannot be edited (permanent when the message was deleted)."""
        ...


class Telemetry(Protocol):
    """What the services report as they work, for an operator's metrics.

    Every method is cheap and never raises; :class:`NoTelemetry` keeps nothing (tests,
    one-shot commands)."""

    def polled(self, refreshes: Sequence[FeedRefresh]) -> None:
        """One polling round's feed refreshes: outcomes, items ingested, fetch/parse times."""
        ...

    def delivered(
        self, kind: str, outcome: str, *, queued_at: datetime | None, at: datetime
    ) -> None:
        """One outbox row handled: ``outcome`` is sent, held, retry, failed or empty;
        ``queued_at`` (when the item was seen) gives an alert's latency once sent."""
        ...

    def command_done(self, command: str, seconds: float, *, outcome: str) -> None:
        """A slash or console command answered (``outcome`` ok or error) in ``seconds``."""
        ...


class NoTelemetry:
    """:class:`Telemetry` that keeps nothing."""

    def polled(self, refreshes: Sequence[FeedRefresh]) -> None:
        """Ignored."""

    def delivered(
        self, kind: str, outcome: str, *, queued_at: datetime | None, at: datetime
    ) -> None:
        """Ignored."""

    def command_done(self, command: str, seconds: float, *, outcome: str) -> None:
        """Ignored."""
