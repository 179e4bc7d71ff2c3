"""Who hears about a new article: topic subscribers (via the percolator) and feed channels.

The planner runs inside the refresh's storing thread, so the deliveries it plans are written
in the same transaction as the articles (the outbox pattern).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from bot.core.models import Feed, NewArticle, NewDelivery, Subscription
from bot.core.ports import DeliveryPlanner
from bot.core.urls import host_name
from bot.pipeline.percolate import SubscriptionIndex
from bot.pipeline.query import MatchDocument, QueryMatcher, parse_query

__all__ = ["AlertPlanner", "PlannerChain", "alert_key"]

StorySources = Callable[[str, datetime], set[str]]
"""(story id, since) -> the distinct sources that covered the story since then."""


def alert_key(recipient_type: str, recipient_id: int, story_id: str) -> str:
    """One alert per story per recipient, however many of their subscriptions match."""
    return f"alert:{recipient_type}:{recipient_id}:{story_id}"


class AlertPlanner:
    """Plans alert and channel-post deliveries for new articles.

    Holds every active subscription in a percolator index; the subscription service keeps it
    current. Safe to call from worker threads.
    """

    def __init__(self, story_sources: StorySources | None = None) -> None:
        self._matcher = QueryMatcher()
        self._index = SubscriptionIndex(self._matcher)
        self._subscriptions: dict[int, Subscription] = {}
        self._lock = threading.Lock()
        self._story_sources = story_sources

    def load(self, subscriptions: Iterable[Subscription]) -> None:
        """Index these subscriptions (at start-up)."""
        for subscription in subscriptions:
            self.add(subscription)

    def add(self, subscription: Subscription) -> None:
        """Start matching a subscription (inactive ones are ignored)."""
        if not subscription.active:
            return
        query = parse_query(subscription.query)
        with self._lock:
            self._index.add(subscription.id, query)
            self._subscriptions[subscription.id] = subscription

    def remove(self, subscription_id: int) -> None:
        """Stop matching a subscription."""
        with self._lock:
            if subscription_id in self._subscriptions:
                self._index.remove(subscription_id)
                del self._subscriptions[subscription_id]

    def __len__(self) -> int:
        return len(self._subscriptions)

    def plan(self, feed: Feed, articles: Sequence[NewArticle]) -> dict[str, list[NewDelivery]]:
        """Deliveries for each article; nothing for a feed's first fetch (its backfill)."""
        plans: dict[str, list[NewDelivery]] = {}
        for article in articles:
            if article.backfill:
                continue
            deliveries = self._posts(feed, article) + self._alerts(feed, article)
            if deliveries:
                plans[article.id] = deliveries
        return plans

    def _posts(self, feed: Feed, article: NewArticle) -> list[NewDelivery]:
        if feed.channel_id is None or feed.guild_id is None:
            return []
        story = article.story_id or article.id
        return [
            NewDelivery(
                dedupe_key=f"post:{feed.channel_id}:{story}",
                kind="post",
                guild_id=feed.guild_id,
                recipient_type="channel",
                recipient_id=feed.channel_id,
                story_id=story,
                feed_id=feed.id,
            )
        ]

    def _alerts(self, feed: Feed, article: NewArticle) -> list[NewDelivery]:
        document = MatchDocument(
            title=article.title,
            text=article.text,
            source_host=host_name(article.url) if article.url.startswith("http") else "",
            source_name=article.source_name,
            tokens=article.match_tokens,
        )
        terms = self._matcher.document_terms(document)
        with self._lock:
            matched = [self._subscriptions[i] for i in self._index.match(terms)]
        story = article.story_id or article.id
        deliveries = {}
        for subscription in sorted(matched, key=lambda s: s.id):
            if feed.guild_id is not None and feed.guild_id != subscription.guild_id:
                continue  # a guild's own feeds alert only that guild's members
            if not self._breaking_threshold_met(subscription, article, story):
                continue
            if subscription.delivery == "dm":
                recipient = ("user", subscription.user_id)
            else:
                recipient = ("channel", subscription.channel_id or 0)
            key = alert_key(*recipient, story)
            deliveries.setdefault(
                key,
                NewDelivery(
                    dedupe_key=key,
                    kind="alert",
                    guild_id=subscription.guild_id,
                    recipient_type=recipient[0],
                    recipient_id=recipient[1],
                    story_id=story,
                    subscription_id=subscription.id,
                ),
            )
        return list(deliveries.values())

    def _breaking_threshold_met(
        self, subscription: Subscription, article: NewArticle, story: str
    ) -> bool:
        """Breaking mode: alert only once N distinct sources covered the story within T min."""
        needed, minutes = subscription.breaking_sources, subscription.breaking_minutes
        if not needed or needed <= 1 or self._story_sources is None:
            return True
        since = article.first_seen_at - timedelta(minutes=minutes or 60)
        sources = self._story_sources(story, since) | {article.source_name}
        return len(sources) >= needed


class PlannerChain:
    """Several delivery planners as one: their deliveries per article, in order."""

    def __init__(self, planners: Sequence[DeliveryPlanner]) -> None:
        self._planners = tuple(planners)

    def plan(self, feed: Feed, articles: Sequence[NewArticle]) -> dict[str, list[NewDelivery]]:
        plans: dict[str, list[NewDelivery]] = {}
        for planner in self._planners:
            for article_id, deliveries in planner.plan(feed, articles).items():
                plans.setdefault(article_id, []).extend(deliveries)
        return plans
