"""Polling by due time: one periodic job claims the feeds that are due and refreshes them.

No job per feed: the due time lives in the database, so the scheduler's work is the same for
ten feeds or a hundred thousand.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import StorageBusyError
from bot.core.models import Feed, FeedRefresh, NewDelivery
from bot.core.ports import PollRecord, Store
from bot.pipeline.refresh import Refresher
from bot.render.sanitize import safe_text, safe_title

__all__ = ["NextPoll", "PollPolicy", "Poller", "plan_next_poll"]

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(days=1)
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """The ``[poll]`` settings the poller needs."""

    interval_minutes: float = 10
    min_interval_minutes: float = 5
    max_interval_minutes: float = 1440
    pause_after_hours: float = 72.0


@dataclass(frozen=True, slots=True)
class NextPoll:
    """When to poll a feed next, or why it is paused."""

    at: datetime
    pause_reason: str | None = None


def plan_next_poll(feed: Feed, refresh: FeedRefresh, now: datetime, policy: PollPolicy) -> NextPoll:
    """The feed's next poll after ``refresh``.

    ``feed`` is the feed as stored after the refresh (its failure count includes this one).
    Success: its interval (per-feed or default, clamped), stretched by RSS ``<ttl>`` and
    ``Cache-Control: max-age`` up to the maximum. Failure: exponential backoff capped at a
    day, never sooner than ``Retry-After``; HTTP 410 pauses at once, and so does failing for
    longer than ``pause_after_hours``.
    """
    low, high = policy.min_interval_minutes, policy.max_interval_minutes
    interval = timedelta(
        minutes=min(max(feed.interval_minutes or policy.interval_minutes, low), high)
    )
    hints = refresh.hints
    if refresh.status != "error":
        wait = interval
        ttl = hints.ttl_minutes or feed.ttl_minutes
        if ttl:
            wait = max(wait, timedelta(minutes=ttl))
        if hints.max_age:
            wait = max(wait, timedelta(seconds=hints.max_age))
        return NextPoll(at=now + min(wait, timedelta(minutes=high)))
    if hints.http_status == 410:
        return NextPoll(at=now, pause_reason="the feed is gone (HTTP 410): its server removed it")
    failing_since = feed.failing_since or now
    if now - failing_since >= timedelta(hours=policy.pause_after_hours):
        hours = (now - failing_since).total_seconds() / 3600
        return NextPoll(
            at=now,
            pause_reason=f"it has failed for {hours:.0f} hours; last error: {refresh.error}",
        )
    failures = max(feed.failure_count, 1)  # the feed as stored after this failure
    wait = min(interval * (2 ** min(failures, 16)), MAX_BACKOFF)
    if hints.retry_after:
        wait = max(wait, timedelta(seconds=hints.retry_after))
    return NextPoll(at=now + wait)


class Poller:
    """Claims due feeds and refreshes them; one feed's fault never delays another's poll."""

    def __init__(
        self,
        store: Store,
        refresher: Refresher,
        clock: Callable[[], datetime],
        policy: PollPolicy,
        *,
        batch_size: int = 500,
    ) -> None:
        self._store = store
        self._refresher = refresher
        self._clock = clock
        self._policy = policy
        self._batch_size = batch_size

    async def poll_due(self) -> list[FeedRefresh]:
        """Refresh every feed that is due (in batches), and schedule each one's next poll.

        Per batch: one claim, the refreshes side by side, then one transaction that records
        every unchanged feed and every next poll time, so an unchanged feed (a 304) costs no
        write of its own. A database that stays locked (another writer) ends this round
        quietly: claimed feeds are polled again when their claim expires, unclaimed ones on
        the next round."""
        results: list[FeedRefresh] = []
        while True:
            now = self._clock()
            try:
                feeds = await asyncio.to_thread(
                    self._store.claim_due_feeds, now, self._batch_size, now + CLAIM_LEASE
                )
            except StorageBusyError as error:
                log.warning("polling waits for the next round: %s", error)
                return results
            if not feeds:
                return results
            outcomes = await asyncio.gather(*(self._refresh(feed) for feed in feeds))
            polled = [refresh for refresh, busy in outcomes if not busy]
            try:
                await asyncio.to_thread(self._record, polled)
            except StorageBusyError as error:
                # Nothing of this batch is recorded; its claims make it due again later.
                log.warning("%d polls are repeated later: %s", len(polled), error)
            results += (refresh for refresh, _ in outcomes)
            if len(feeds) < self._batch_size:
                return results

    async def _refresh(self, feed: Feed) -> tuple[FeedRefresh, bool]:
        """The feed's refresh, and whether the database was busy: then it is not the feed's
        fault (no failure is counted) and its claim makes it due again once the lease ends."""
        try:
            return await self._refresher.refresh_feed(feed, record_unchanged=False), False
        except StorageBusyError as error:
            log.warning(
                "feed %s is polled again later: %s", feed.url, error, extra={"feed_id": feed.id}
            )
            return FeedRefresh(feed=feed, status="error", error=str(error)), True
        except Exception as error:  # a bug in one feed's path must not stop the others
            log.exception("refreshing feed %s crashed", feed.url, extra={"feed_id": feed.id})
            refresh = FeedRefresh(feed=feed, status="error", error=f"internal error: {error}")
            return refresh, False

    def _record(self, refreshes: Sequence[FeedRefresh]) -> None:
        """Plan each feed's next poll and record the batch in one transaction; then post
        the pause notices (sync, off the event loop)."""
        now = self._clock()
        records: list[PollRecord] = []
        paused: list[tuple[Feed, str]] = []
        for refresh in refreshes:
            current = refresh.feed
            try:
                if refresh.status == "error":  # the plan needs the failure count just stored
                    current = self._store.get_feed(current.id) or current
                plan = plan_next_poll(current, refresh, now, self._policy)
            except StorageBusyError:
                raise  # the whole batch is repeated after its lease
            except Exception:  # one feed's fault must not cost the batch its records
                log.exception("planning the next poll of feed %s failed", current.url)
                plan = NextPoll(at=now + timedelta(minutes=self._policy.interval_minutes))
            records.append(
                PollRecord(
                    feed_id=current.id,
                    next_poll_at=plan.at,
                    ttl_minutes=refresh.hints.ttl_minutes,
                    pause_reason=plan.pause_reason,
                    unchanged=refresh.unrecorded,
                )
            )
            if plan.pause_reason:
                paused.append((current, plan.pause_reason))
        self._store.record_polls(records, now)
        for feed, reason in paused:
            try:
                self._announce_pause(feed, reason, now)
            except StorageBusyError as error:
                log.warning("the pause notice for feed %s is lost: %s", feed.url, error)
            except Exception:  # the other notices still go out
                log.exception("the pause notice for feed %s failed", feed.url)

    def _announce_pause(self, feed: Feed, reason: str, now: datetime) -> None:
        """Tell the feed's guild once, in its channel, that it was paused and how to resume."""
        log.warning(
            "paused feed %s: %s",
            feed.url,
            reason,
            extra={"feed_id": feed.id, "guild_id": feed.guild_id},
        )
        if feed.guild_id is None or feed.channel_id is None:
            return
        text = (
            f"Paused the feed **{safe_title(feed.name, 100)}** ({safe_text(feed.url)}): "
            f"{safe_text(reason)}. "
            f"A server admin can resume it with `/feeds resume feed:{feed.id}`."
        )
        notice = NewDelivery(
            dedupe_key=f"notice:paused:{feed.id}:{now.isoformat()}",
            kind="notice",
            guild_id=feed.guild_id,
            recipient_type="channel",
            recipient_id=feed.channel_id,
            feed_id=feed.id,
            payload=json.dumps({"pages": [{"content": text, "embeds": []}]}),
        )
        self._store.enqueue([notice], now)
