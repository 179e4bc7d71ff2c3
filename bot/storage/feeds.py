"""Feeds and their polling: the feed list per guild, fetch outcomes, claims of due feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Text, and_, bindparam, func, or_, select, update

from bot.core.models import Feed, FeedState
from bot.core.ports import PollRecord
from bot.core.urls import host_name
from bot.storage.base import StorePart, feed_from_row, utc_now
from bot.storage.schema import UTCDateTime, feeds

__all__ = ["FeedStore", "fetched_successfully"]


def fetched_successfully(state: FeedState, at: datetime) -> dict[str, Any]:
    """The feed columns a successful fetch at ``at`` sets."""
    return {
        "etag": state.etag,
        "last_modified": state.last_modified,
        "body_hash": state.body_hash,
        "last_success_at": at,
        "last_error": None,
        "failure_count": 0,
        "failing_since": None,
    }


class FeedStore(StorePart):
    """Feeds and polling."""

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
        options = {
            "name": name or _placeholder_name(url),
            "auto_name": name is None,
            "channel_id": channel_id,
            "extract_full_text": extract_full_text,
            "interval_minutes": interval_minutes,
        }
        with self._engine.begin() as connection:
            existing = connection.execute(
                select(feeds.c.id).where(feeds.c.guild_id == guild_id, feeds.c.url == url)
            ).scalar()
            if existing is None:
                existing = connection.execute(
                    feeds.insert().values(
                        url=url,
                        guild_id=guild_id,
                        created_at=utc_now(),
                        created_by=created_by,
                        next_poll_at=next_poll_at,
                        **options,
                    )
                ).inserted_primary_key[0]
            else:
                connection.execute(update(feeds).where(feeds.c.id == existing).values(**options))
            return feed_from_row(
                connection.execute(select(feeds).where(feeds.c.id == existing)).one()._mapping
            )

    def get_feed(self, feed_id: int) -> Feed | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(feeds).where(feeds.c.id == feed_id)).first()
        return feed_from_row(row._mapping) if row else None

    def list_feeds(self, guild_id: int | None = None) -> list[Feed]:
        query = select(feeds).order_by(feeds.c.id)
        if guild_id is not None:
            query = query.where(feeds.c.guild_id == guild_id)
        with self._engine.connect() as connection:
            return [feed_from_row(row._mapping) for row in connection.execute(query)]

    def remove_feed(self, feed_id: int) -> bool:
        with self._engine.begin() as connection:
            return connection.execute(feeds.delete().where(feeds.c.id == feed_id)).rowcount > 0

    def record_not_modified(self, feed_id: int, state: FeedState, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(feeds).where(feeds.c.id == feed_id).values(**fetched_successfully(state, at))
            )

    def record_feed_error(self, feed_id: int, message: str, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(
                    last_error=message[:500],
                    last_error_at=at,
                    failure_count=feeds.c.failure_count + 1,
                    failing_since=func.coalesce(feeds.c.failing_since, at),
                )
            )

    def claim_due_feeds(
        self, now: datetime, limit: int, lease_until: datetime, *, owner: str | None = None
    ) -> list[Feed]:
        """Feeds due for a poll (never polled first), leased until ``lease_until`` so a
        concurrent claim does not take them too (on PostgreSQL, concurrent claims skip each
        other's rows: ``FOR UPDATE SKIP LOCKED``).

        ``owner`` names the claimant so that, restarted, it can hand back what it claimed
        and never recorded (:meth:`release_feed_claims`); give a name that survives a
        restart (e.g. the host and the process's role) and that no other live process uses.
        Recording the poll (:meth:`record_polls`) ends the claim."""
        due = and_(
            ~feeds.c.paused, or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now)
        )
        order = (feeds.c.next_poll_at.is_not(None), feeds.c.next_poll_at, feeds.c.id)
        leased = {"next_poll_at": lease_until, "claimed_by": owner}
        return self._claim(feeds, due, order, limit, leased, feed_from_row)

    def release_feed_claims(self, owner: str, now: datetime) -> int:
        """Feeds ``owner`` claimed and never recorded (it died while polling them) are due
        at ``now`` instead of when their lease ends. Returns how many."""
        with self._engine.begin() as connection:
            return connection.execute(
                update(feeds)
                .where(feeds.c.claimed_by == owner)
                .values(next_poll_at=now, claimed_by=None)
            ).rowcount

    def schedule_next_poll(
        self,
        feed_id: int,
        at: datetime,
        *,
        ttl_minutes: int | None = None,
        pause_reason: str | None = None,
    ) -> None:
        """Set when the feed is polled next, remember its ``<ttl>``, or pause it (one feed's
        :meth:`record_polls`)."""
        poll = PollRecord(feed_id, at, ttl_minutes=ttl_minutes, pause_reason=pause_reason)
        self.record_polls([poll], at)

    def record_polls(self, polls: Sequence[PollRecord], at: datetime) -> None:
        """Record a batch of polls in one transaction (executemany, not a statement each)."""
        if not polls:
            return
        unchanged = [
            {
                "b_id": poll.feed_id,
                "b_etag": poll.unchanged.etag,
                "b_last_modified": poll.unchanged.last_modified,
                "b_body_hash": poll.unchanged.body_hash,
                "b_at": at,
            }
            for poll in polls
            if poll.unchanged is not None
        ]
        scheduled = [
            {"b_id": poll.feed_id, "b_next": poll.next_poll_at, "b_ttl": poll.ttl_minutes}
            for poll in polls
        ]
        by_id = feeds.c.id == bindparam("b_id")
        with self._engine.begin() as connection:
            if unchanged:
                record_unchanged = (
                    update(feeds)
                    .where(by_id)
                    .values(
                        etag=bindparam("b_etag", type_=Text()),
                        last_modified=bindparam("b_last_modified", type_=Text()),
                        body_hash=bindparam("b_body_hash", type_=Text()),
                        last_success_at=bindparam("b_at", type_=UTCDateTime()),
                        last_error=None,
                        failure_count=0,
                        failing_since=None,
                    )
                )
                connection.execute(record_unchanged, unchanged)
            schedule = (
                update(feeds)
                .where(by_id)
                .values(
                    next_poll_at=bindparam("b_next", type_=UTCDateTime()),
                    claimed_by=None,
                    ttl_minutes=func.coalesce(
                        bindparam("b_ttl", type_=Integer()), feeds.c.ttl_minutes
                    ),
                )
            )
            connection.execute(schedule, scheduled)
            for poll in polls:
                if poll.pause_reason is not None:
                    connection.execute(
                        update(feeds)
                        .where(feeds.c.id == poll.feed_id)
                        .values(paused=True, paused_reason=poll.pause_reason[:500])
                    )

    def resume_feed(self, feed_id: int, at: datetime) -> None:
        """Unpause a feed and poll it at once."""
        with self._engine.begin() as connection:
            connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(
                    paused=False,
                    paused_reason=None,
                    failure_count=0,
                    failing_since=None,
                    next_poll_at=at,
                    claimed_by=None,
                )
            )

    def pause_feed(self, feed_id: int, reason: str) -> Feed | None:
        """Pause a feed that is not paused yet; returns it, or None when it already was."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id, ~feeds.c.paused)
                .values(paused=True, paused_reason=reason[:500])
            ).rowcount
            row = connection.execute(select(feeds).where(feeds.c.id == feed_id)).first()
        return feed_from_row(row._mapping) if changed and row else None


def _placeholder_name(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return host_name(url)
    return Path(url).name or url
