"""The outbox sender: delivers each pending message exactly once, within flood caps.

Rows are claimed with a lease, sent with a nonce derived from the row id, then marked sent.
A crash between sending and marking leaves the row claimed; after a restart it is sent again
with the same nonce, which Discord deduplicates (``enforce_nonce``), so nothing doubles.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from bot.core.errors import DeliveryError, StorageBusyError
from bot.core.models import Delivery, NewDelivery
from bot.core.ports import MessageSink, NoTelemetry, Store, Telemetry
from bot.render.embeds import digest_pages, story_embed
from bot.render.sanitize import safe_title
from bot.services.alerts import AlertPlanner
from bot.services.follows import FollowService
from bot.services.stories import StoryBuilder, group_into_stories
from bot.services.summaries import SummaryService

__all__ = ["DeliveryService", "FloodCaps"]

log = logging.getLogger(__name__)

CAPPED_KINDS = ("alert", "post", "digest")
"""What counts against a recipient's hourly cap (briefings and notices are never held)."""
CLAIM_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
WINDOW = timedelta(hours=1)

Page = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FloodCaps:
    """Most alerts and posts one recipient gets per hour; the rest wait for a digest."""

    per_user_per_hour: int = 10
    per_channel_per_hour: int = 20

    def for_recipient(self, recipient_type: str) -> int:
        return self.per_user_per_hour if recipient_type == "user" else self.per_channel_per_hour


class DeliveryService:
    """Sends due outbox rows through a :class:`MessageSink`."""

    def __init__(
        self,
        store: Store,
        summaries: SummaryService,
        sink: MessageSink,
        clock: Callable[[], datetime],
        caps: FloodCaps,
        *,
        alerts: AlertPlanner | None = None,
        follows: FollowService | None = None,
        telemetry: Telemetry | None = None,
        batch_size: int = 50,
    ) -> None:
        self._store = store
        self._stories = StoryBuilder(summaries)
        self._sink = sink
        self._clock = clock
        self._caps = caps
        self._alerts = alerts
        self._follows = follows
        self._telemetry = telemetry or NoTelemetry()
        self._batch_size = batch_size

    async def recover(self) -> int:
        """On start: deliveries a previous process had claimed are due again."""
        return await asyncio.to_thread(self._store.release_claims, self._clock())

    async def deliver_due(self) -> int:
        """Roll held items into digests where a window reopened, then send what is due.
        Returns the number of messages delivered.

        A database that stays locked (another writer) ends the round quietly: a delivery
        already claimed is sent again with the same nonce once its lease ends, which Discord
        deduplicates, so nothing is lost or doubled."""
        sent = 0
        try:
            await asyncio.to_thread(self._roll_up_digests)
            now = self._clock()
            claimed = await asyncio.to_thread(
                self._store.claim_deliveries, now, self._batch_size, now + CLAIM_LEASE
            )
            for delivery in claimed:
                outcome = await self._deliver(delivery)
                self._telemetry.delivered(
                    delivery.kind, outcome, queued_at=delivery.created_at, at=self._clock()
                )
                if outcome == "sent":
                    sent += 1
        except StorageBusyError as error:
            log.warning("deliveries wait for the next round: %s", error)
        return sent

    async def _deliver(self, delivery: Delivery) -> str:
        """Send one delivery; its outcome: sent, held, empty, retry or failed."""
        now = self._clock()
        if delivery.kind in ("alert", "post") and await asyncio.to_thread(self._capped, delivery):
            await asyncio.to_thread(self._store.hold_delivery, delivery.id)
            return "held"
        try:
            if delivery.kind in ("card", "edit") and self._follows is not None:
                return await self._follows.deliver(delivery, self._sink)
            pages = await asyncio.to_thread(self._pages, delivery)
            if not pages:
                await asyncio.to_thread(self._store.mark_failed, delivery.id, "nothing to send")
                return "empty"
            message_id = ""
            for number, page in enumerate(pages):
                nonce = delivery.nonce if number == 0 else f"{delivery.nonce}-{number}"
                message_id = await self._sink.send(
                    delivery.recipient_type,
                    delivery.recipient_id,
                    page.get("content", ""),
                    page.get("embeds", []),
                    nonce,
                    follow=page.get("follow") if number == 0 else None,
                )
        except DeliveryError as error:
            return await asyncio.to_thread(self._failed, delivery, error, now)
        await asyncio.to_thread(self._mark_delivered, delivery, message_id)
        return "sent"

    def _mark_delivered(self, delivery: Delivery, message_id: str) -> None:
        """Record the sent message; a channel alert or post also starts following its story."""
        if self._follows is None or not self._follows.track_sent(delivery, message_id):
            self._store.mark_delivered(delivery.id, message_id, self._clock())

    def _capped(self, delivery: Delivery) -> bool:
        since = self._clock() - WINDOW
        sent = self._store.count_sent(
            delivery.recipient_type, delivery.recipient_id, since, CAPPED_KINDS
        )
        return sent >= self._caps.for_recipient(delivery.recipient_type)

    def _pages(self, delivery: Delivery) -> list[Page]:
        """The messages of a delivery: stored pages, or its story rendered now."""
        if delivery.payload:
            return list(json.loads(delivery.payload)["pages"])
        if not delivery.story_id:
            return []
        articles = self._store.story_articles(delivery.story_id)
        if not articles:
            return []
        story = self._stories.with_summaries(group_into_stories(articles))[0]
        if delivery.kind == "alert" and delivery.subscription_id is not None:
            content = f"New story for your subscription #{delivery.subscription_id}"
        else:
            content = ""
        page: Page = {"content": content, "embeds": [story_embed(story)]}
        if self._follows is not None:
            page["follow"] = story.id
        return [page]

    def _failed(self, delivery: Delivery, error: DeliveryError, now: datetime) -> str:
        """Retry later or give up; returns which ("retry" or "failed")."""
        if error.permanent or delivery.attempts >= MAX_ATTEMPTS:
            log.warning(
                "delivery %d to %s %d failed for good: %s",
                delivery.id,
                delivery.recipient_type,
                delivery.recipient_id,
                error,
                extra={"delivery_id": delivery.id, "guild_id": delivery.guild_id},
            )
            self._store.mark_failed(delivery.id, str(error))
            if error.permanent and delivery.subscription_id is not None:
                self._disable_subscription(delivery, str(error), now)
            elif error.permanent and delivery.kind == "post" and delivery.feed_id is not None:
                self._pause_feed_posts(delivery.feed_id, str(error), now)
            elif error.permanent and delivery.kind == "briefing" and delivery.schedule_id:
                self._disable_schedule(delivery.schedule_id, str(error), now)
            return "failed"
        backoff = timedelta(seconds=min(5 * 2 ** (delivery.attempts - 1), 3600))
        if error.retry_after:
            backoff = max(backoff, timedelta(seconds=error.retry_after))
        log.info(
            "delivery %d will be retried in %s: %s",
            delivery.id,
            backoff,
            error,
            extra={"delivery_id": delivery.id, "guild_id": delivery.guild_id},
        )
        self._store.mark_retry(delivery.id, str(error), now + backoff)
        return "retry"

    def _disable_subscription(self, delivery: Delivery, reason: str, now: datetime) -> None:
        """A subscription that cannot be delivered is disabled, and its owner told where
        that is still possible (by DM when its channel failed)."""
        subscription = self._store.disable_subscription(delivery.subscription_id or 0, reason)
        if subscription is not None and self._alerts is not None:
            self._alerts.remove(subscription.id)
        if subscription is None or delivery.recipient_type == "user":
            return
        text = (
            f"I stopped your subscription #{subscription.id} (“{subscription.query}”) "
            f"because I can no longer post in its channel: {reason}. "
            "Use /subscribe again to pick another channel or DMs."
        )
        self._store.enqueue(
            [
                NewDelivery(
                    dedupe_key=f"notice:subscription-disabled:{subscription.id}",
                    kind="notice",
                    guild_id=subscription.guild_id,
                    recipient_type="user",
                    recipient_id=subscription.user_id,
                    payload=json.dumps({"pages": [{"content": text, "embeds": []}]}),
                )
            ],
            now,
        )

    def _pause_feed_posts(self, feed_id: int, reason: str, now: datetime) -> None:
        """A feed whose channel refuses its posts is paused, and whoever added it is told
        once, by DM (the channel itself cannot be used)."""
        feed = self._store.pause_feed(feed_id, f"its channel refuses posts: {reason}")
        if feed is None:
            return  # already paused: told before
        log.warning("paused feed %s: its channel %s refuses posts", feed.url, feed.channel_id)
        if feed.created_by is None or feed.guild_id is None:
            return  # shown as paused in /feeds list
        text = (
            f"I paused the feed **{safe_title(feed.name, 100)}** (#{feed.id}) because I can no "
            f"longer post in <#{feed.channel_id}>: {reason}. Give me View Channel, Send Messages "
            f"and Embed Links there, then `/feeds resume feed:{feed.id}`; or `/feeds remove` it."
        )
        self._notify(
            f"notice:feed-posts-paused:{feed.id}:{now.isoformat()}",
            feed.guild_id,
            feed.created_by,
            text,
            now,
        )

    def _disable_schedule(self, schedule_id: int, reason: str, now: datetime) -> None:
        """A scheduled briefing whose channel refuses it is stopped, and whoever set it up is
        told once, by DM."""
        schedule = self._store.disable_schedule(schedule_id, reason)
        if schedule is None:
            return
        log.warning("stopped schedule %d: its channel refuses briefings", schedule.id)
        text = (
            f"I stopped the scheduled briefing #{schedule.id} ({schedule.time_of_day} "
            f"{schedule.timezone}) because I can no longer post in <#{schedule.channel_id}>: "
            f"{reason}. Fix my permissions there or pick another channel, then "
            f"`/schedule remove schedule:{schedule.id}` and `/schedule set` it again."
        )
        self._notify(
            f"notice:schedule-stopped:{schedule.id}",
            schedule.guild_id,
            schedule.created_by,
            text,
            now,
        )

    def _notify(self, key: str, guild_id: int, user_id: int, text: str, now: datetime) -> None:
        self._store.enqueue(
            [
                NewDelivery(
                    dedupe_key=key,
                    kind="notice",
                    guild_id=guild_id,
                    recipient_type="user",
                    recipient_id=user_id,
                    payload=json.dumps({"pages": [{"content": text, "embeds": []}]}),
                )
            ],
            now,
        )

    def _roll_up_digests(self) -> None:
        """Each recipient with held items and room under its cap gets one digest of them."""
        now = self._clock()
        held = self._store.held_deliveries()
        for (recipient_type, recipient_id), group in groupby(
            held, key=lambda d: (d.recipient_type, d.recipient_id)
        ):
            items = list(group)
            sent = self._store.count_sent(recipient_type, recipient_id, now - WINDOW, CAPPED_KINDS)
            if sent >= self._caps.for_recipient(recipient_type):
                continue
            pages = self._digest(items)
            digest = NewDelivery(
                dedupe_key=f"digest:{recipient_type}:{recipient_id}:{items[0].id}",
                kind="digest",
                guild_id=items[0].guild_id,
                recipient_type=recipient_type,
                recipient_id=recipient_id,
                payload=json.dumps({"pages": pages}),
            )
            self._store.digest_held([item.id for item in items], digest, now)

    def _digest(self, items: Sequence[Delivery]) -> list[Page]:
        stories = []
        for story_id in dict.fromkeys(item.story_id for item in items if item.story_id):
            articles = self._store.story_articles(story_id)
            if articles:
                stories.extend(group_into_stories(articles))
        return [
            {"content": page.content, "embeds": list(page.embeds)}
            for page in digest_pages(stories, held=len(items))
        ]
