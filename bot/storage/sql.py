"""The SQL store: SQLAlchemy Core on SQLite (WAL, FTS5), migrated by Alembic on open."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Engine,
    Integer,
    RowMapping,
    Text,
    bindparam,
    column,
    create_engine,
    event,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.core.errors import StorageBusyError, StorageError, StorageFullError
from bot.core.models import (
    SNIPPET_END,
    SNIPPET_START,
    Article,
    Delivery,
    Feed,
    NewArticle,
    NewDelivery,
    Schedule,
    SearchHit,
    Subscription,
)
from bot.core.ports import FeedState, PollRecord, StoredBatch, StoreStats
from bot.core.urls import host_name
from bot.storage.schema import (
    UTCDateTime,
    article_feeds,
    articles,
    briefed_stories,
    feeds,
    outbox,
    schedules,
    subscriptions,
)

__all__ = ["PRUNE_BATCH", "SEARCH_CANDIDATES", "SqlStore", "fts_match_expression"]

_Model = TypeVar("_Model")
_MIGRATIONS = Path(__file__).with_name("migrations")
_QUERY_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+")
_MAX_QUERY_TERMS = 16
PRUNE_BATCH = 500
"""Articles deleted per transaction when pruning (each also leaves the full-text index)."""


class SqlStore:
    """:class:`bot.core.ports.Store` on SQLAlchemy Core. Use :meth:`open`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = 30.0) -> SqlStore:
        """Connect, creating the SQLite file's folder, and migrate the schema to the newest.

        A write waits up to ``busy_timeout`` seconds for another writer's lock; then it raises
        :class:`StorageBusyError`, which callers treat as "try again later"."""
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise StorageError(f"invalid database URL {url!r}: {error}") from error
        if parsed.get_backend_name() != "sqlite":
            raise StorageError(
                f"database {parsed.get_backend_name()!r} is not supported yet; use sqlite:///path"
            )
        if not parsed.database or parsed.database == ":memory:" or "mode=memory" in url:
            raise StorageError(f"the database URL {url!r} names no file; use sqlite:///path")
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"cannot create the database folder {folder}: {error.strerror}"
            ) from None
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "handle_error", _raise_busy)
        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self._engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as error:
            raise StorageError(f"cannot open the database: {error}") from error

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    # Feeds

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
                        created_at=_now(),
                        created_by=created_by,
                        **options,
                    )
                ).inserted_primary_key[0]
            else:
                connection.execute(update(feeds).where(feeds.c.id == existing).values(**options))
            return _feed(
                connection.execute(select(feeds).where(feeds.c.id == existing)).one()._mapping
            )

    def get_feed(self, feed_id: int) -> Feed | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(feeds).where(feeds.c.id == feed_id)).first()
        return _feed(row._mapping) if row else None

    def list_feeds(self, guild_id: int | None = None) -> list[Feed]:
        query = select(feeds).order_by(feeds.c.id)
        if guild_id is not None:
            query = query.where(feeds.c.guild_id == guild_id)
        with self._engine.connect() as connection:
            return [_feed(row._mapping) for row in connection.execute(query)]

    def remove_feed(self, feed_id: int) -> bool:
        with self._engine.begin() as connection:
            return connection.execute(feeds.delete().where(feeds.c.id == feed_id)).rowcount > 0

    # Ingest

    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self._engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    connection.execute(select(articles.c.id).where(articles.c.id.in_(chunk)))
                    .scalars()
                    .all()
                )
        return found

    def store_articles(
        self,
        feed_id: int,
        articles_in: Sequence[NewArticle],
        state: FeedState,
        at: datetime,
        deliveries: Mapping[str, Sequence[NewDelivery]] | None = None,
    ) -> StoredBatch:
        unique = list({article.id: article for article in articles_in}.values())
        with self._engine.begin() as connection:
            known = self._known_in(connection, [a.id for a in unique])
            # One insert-or-ignore for the whole batch; RETURNING names the rows it added:
            # another feed's refresh may store the same article between our check and our
            # write, and then this one is simply not new.
            candidates = [_article_row(a) for a in unique if a.id not in known]
            added: set[str] = set()
            if candidates:
                insert = _insert_ignoring_duplicates(connection, articles)
                added.update(
                    connection.execute(insert.returning(articles.c.id), candidates).scalars()
                )
            fresh = [a for a in unique if a.id in added]
            if unique:
                connection.execute(
                    _insert_ignoring_duplicates(connection, article_feeds),
                    [{"article_id": a.id, "feed_id": feed_id, "first_seen_at": at} for a in unique],
                )
            connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(initialized=True, **_success(state, at))
            )
            if state.title:
                connection.execute(
                    update(feeds)
                    .where(feeds.c.id == feed_id, feeds.c.auto_name)
                    .values(name=state.title[:200])
                )
            planned = deliveries or {}
            _enqueue(connection, [d for a in fresh for d in planned.get(a.id, ())], at)
        return StoredBatch(new_ids=tuple(a.id for a in fresh), seen_count=len(unique) - len(fresh))

    def record_not_modified(self, feed_id: int, state: FeedState, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(feeds).where(feeds.c.id == feed_id).values(**_success(state, at))
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

    # Polling

    def claim_due_feeds(self, now: datetime, limit: int, lease_until: datetime) -> list[Feed]:
        """Feeds due for a poll (never polled first), leased until ``lease_until`` so a
        concurrent claim does not take them too."""
        due = (
            select(feeds.c.id)
            .where(
                ~feeds.c.paused,
                or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now),
            )
            .order_by(feeds.c.next_poll_at.is_not(None), feeds.c.next_poll_at, feeds.c.id)
            .limit(limit)
        )
        with self._engine.begin() as connection:
            ids = list(connection.execute(due).scalars())
            if not ids:
                return []
            connection.execute(
                update(feeds).where(feeds.c.id.in_(ids)).values(next_poll_at=lease_until)
            )
            rows = connection.execute(select(feeds).where(feeds.c.id.in_(ids)))
            claimed = {row.id: _feed(row._mapping) for row in rows}
        return [claimed[i] for i in ids if i in claimed]

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
        return _feed(row._mapping) if changed and row else None

    def disable_schedule(self, schedule_id: int, reason: str) -> Schedule | None:
        """Stop a schedule that is still active; returns it, or None when it already was."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id, schedules.c.active)
                .values(active=False, disabled_reason=reason[:500])
            ).rowcount
            row = connection.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        return _schedule(row._mapping) if changed and row else None

    # Deliveries (the outbox)

    def enqueue(self, deliveries: Sequence[NewDelivery], at: datetime) -> int:
        """Add deliveries; those whose dedupe key exists are ignored. Returns how many were new."""
        with self._engine.begin() as connection:
            return _enqueue(connection, deliveries, at)

    def claim_deliveries(self, now: datetime, limit: int, lease_until: datetime) -> list[Delivery]:
        """Pending deliveries that are due, oldest first, leased until ``lease_until``."""
        due = (
            select(outbox.c.id)
            .where(
                outbox.c.status.in_(("pending", "sending")),
                outbox.c.next_attempt_at <= now,
            )
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        with self._engine.begin() as connection:
            ids = list(connection.execute(due).scalars())
            if not ids:
                return []
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    status="sending",
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=lease_until,
                )
            )
            rows = connection.execute(select(outbox).where(outbox.c.id.in_(ids)))
            claimed = {row.id: _delivery(row._mapping) for row in rows}
        return [claimed[i] for i in ids if i in claimed]

    def release_claims(self, now: datetime) -> int:
        """After a restart: deliveries a dead process had claimed are due again."""
        with self._engine.begin() as connection:
            return connection.execute(
                update(outbox)
                .where(outbox.c.status == "sending")
                .values(status="pending", next_attempt_at=now)
            ).rowcount

    def mark_delivered(self, delivery_id: int, message_id: str, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="sent", message_id=message_id, sent_at=at, last_error=None)
            )

    def mark_retry(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="pending", next_attempt_at=retry_at, last_error=error[:500])
            )

    def mark_failed(self, delivery_id: int, error: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="failed", last_error=error[:500])
            )

    def hold_delivery(self, delivery_id: int) -> None:
        """Keep a delivery back for the recipient's next digest (a flood cap was hit)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox).where(outbox.c.id == delivery_id).values(status="held")
            )

    def count_sent(
        self, recipient_type: str, recipient_id: int, since: datetime, kinds: Sequence[str]
    ) -> int:
        """Messages of these kinds sent to one recipient since ``since``."""
        query = (
            select(func.count())
            .select_from(outbox)
            .where(
                outbox.c.recipient_type == recipient_type,
                outbox.c.recipient_id == recipient_id,
                outbox.c.status == "sent",
                outbox.c.kind.in_(kinds),
                outbox.c.sent_at >= since,
            )
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def held_deliveries(self) -> list[Delivery]:
        """Every held delivery, grouped by recipient, oldest first."""
        query = (
            select(outbox)
            .where(outbox.c.status == "held")
            .order_by(outbox.c.recipient_type, outbox.c.recipient_id, outbox.c.id)
        )
        with self._engine.connect() as connection:
            return [_delivery(row._mapping) for row in connection.execute(query)]

    def digest_held(self, held_ids: Sequence[int], digest: NewDelivery, at: datetime) -> bool:
        """Replace held deliveries by one digest delivery, atomically."""
        with self._engine.begin() as connection:
            if not _enqueue(connection, [digest], at):
                return False
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(held_ids)), outbox.c.status == "held")
                .values(status="digested")
            )
        return True

    def delivery_statuses(self) -> dict[str, int]:
        """How many deliveries are in each status (for status displays and tests)."""
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        with self._engine.connect() as connection:
            return {status: count for status, count in connection.execute(query)}

    def disable_subscription(self, subscription_id: int, reason: str) -> Subscription | None:
        """Stop a subscription whose deliveries cannot succeed; returns it, or None."""
        with self._engine.begin() as connection:
            connection.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(active=False, disabled_reason=reason[:300])
            )
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == subscription_id)
            ).first()
        return _subscription(row._mapping) if row else None

    def story_articles(self, story_id: str) -> list[Article]:
        """The articles of one story, oldest first."""
        query = (
            select(articles)
            .where(articles.c.story_id == story_id)
            .order_by(articles.c.published_at, articles.c.pk)
        )
        with self._engine.connect() as connection:
            return [_article(row._mapping) for row in connection.execute(query)]

    def story_sources_since(self, story_id: str, since: datetime) -> set[str]:
        """Distinct sources that covered a story since ``since`` (first seen)."""
        query = select(articles.c.source_name).where(
            articles.c.story_id == story_id, articles.c.first_seen_at >= since
        )
        with self._engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == subscription_id)
            ).first()
        return _subscription(row._mapping) if row else None

    # Scheduled briefings

    def briefed_story_ids(self, channel_id: int, story_ids: Sequence[str]) -> set[str]:
        """Which of these stories the channel was already briefed on."""
        query = select(briefed_stories.c.story_id).where(
            briefed_stories.c.channel_id == channel_id,
            briefed_stories.c.story_id.in_(list(story_ids)),
        )
        with self._engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def record_schedule_run(
        self,
        schedule: Schedule,
        due: datetime,
        delivery: NewDelivery | None,
        story_ids: Sequence[str],
        at: datetime,
    ) -> bool:
        """Claim the run of ``schedule`` due at ``due`` and, in the same transaction, enqueue its
        briefing and mark its stories briefed. False when that run was already claimed."""
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(schedules)
                .where(
                    schedules.c.id == schedule.id,
                    or_(schedules.c.last_run_at.is_(None), schedules.c.last_run_at < due),
                )
                .values(last_run_at=due)
            ).rowcount
            if not claimed:
                return False
            if delivery is not None:
                _enqueue(connection, [delivery], at)
            if story_ids:
                connection.execute(
                    _insert_ignoring_duplicates(connection, briefed_stories),
                    [
                        {"channel_id": schedule.channel_id, "story_id": story, "briefed_at": at}
                        for story in story_ids
                    ],
                )
        return True

    # Reading

    def articles_between(self, since: datetime, until: datetime, *, limit: int) -> list[Article]:
        query = (
            select(articles)
            .where(articles.c.published_at >= since, articles.c.published_at <= until)
            .order_by(articles.c.published_at.desc(), articles.c.pk.desc())
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [_article(row._mapping) for row in connection.execute(query)]

    def latest_articles(self, count: int, *, source: str | None = None) -> list[Article]:
        query = select(articles).order_by(articles.c.published_at.desc(), articles.c.pk.desc())
        if source:
            pattern = f"%{_escape_like(source.lower())}%"
            query = query.where(
                or_(
                    func.lower(articles.c.source_name).like(pattern, escape="\\"),
                    func.lower(articles.c.url).like(pattern, escape="\\"),
                )
            )
        with self._engine.connect() as connection:
            return [_article(row._mapping) for row in connection.execute(query.limit(count))]

    def search(
        self, query: str, *, since: datetime | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Best matches by bm25 among the newest :data:`SEARCH_CANDIDATES` matches, ranked in
        the full-text index alone; only the hits shown are read from ``articles``."""
        match = fts_match_expression(query)
        if not match:
            return []
        with self._engine.connect() as connection:
            if since is None:
                ranked = connection.execute(
                    _RANK, {"match": match, "candidates": SEARCH_CANDIDATES, "limit": limit}
                ).all()
            else:
                floor = connection.execute(
                    _NEWEST_MATCHES, {"match": match, "skip": SEARCH_CANDIDATES - 1}
                ).scalar()
                ranked = connection.execute(
                    _RANK_SINCE.bindparams(bindparam("since", since, type_=UTCDateTime())),
                    {"match": match, "floor": floor or 0, "limit": limit},
                ).all()
            if not ranked:
                return []
            statement = (
                text(
                    "SELECT articles.*, "
                    "snippet(articles_fts, 1, :start, :end, '…', 24) AS snippet "
                    "FROM articles_fts JOIN articles ON articles.pk = articles_fts.rowid "
                    "WHERE articles_fts MATCH :match AND articles_fts.rowid IN :pks"
                )
                .bindparams(
                    bindparam("match", match),
                    bindparam("start", SNIPPET_START),
                    bindparam("end", SNIPPET_END),
                    bindparam("pks", [pk for pk, _ in ranked], expanding=True),
                )
                .columns(*articles.c, column("snippet", Text))
            )
            rows = {row.pk: row._mapping for row in connection.execute(statement)}
        return [
            SearchHit(
                article=_article(rows[pk]), score=-float(score), snippet=rows[pk]["snippet"] or ""
            )
            for pk, score in ranked
            if pk in rows
        ]

    def prune_articles(self, before: datetime, *, batch_size: int = PRUNE_BATCH) -> int:
        """Delete the articles published and first seen before ``before``, a batch per
        transaction (so writers wait for one batch at most), with their feed links and
        full-text entries (the delete trigger); then the records of stories briefed before
        ``before`` that have no article left, and deliveries done (sent, failed, digested)
        before it. Returns how many articles went."""
        oldest = (
            select(articles.c.pk, articles.c.id)
            .where(articles.c.published_at < before, articles.c.first_seen_at < before)
            .order_by(articles.c.published_at)
            .limit(batch_size)
        )
        deleted = 0
        while True:
            with self._engine.begin() as connection:
                rows = connection.execute(oldest).all()
                if rows:
                    connection.execute(
                        article_feeds.delete().where(
                            article_feeds.c.article_id.in_([row.id for row in rows])
                        )
                    )
                    connection.execute(
                        articles.delete().where(articles.c.pk.in_([row.pk for row in rows]))
                    )
            deleted += len(rows)
            if len(rows) < batch_size:
                break
        with self._engine.begin() as connection:
            connection.execute(
                briefed_stories.delete().where(
                    briefed_stories.c.briefed_at < before,
                    ~exists().where(articles.c.story_id == briefed_stories.c.story_id),
                )
            )
            connection.execute(
                outbox.delete().where(
                    outbox.c.status.in_(("sent", "failed", "digested")),
                    outbox.c.created_at < before,
                )
            )
        return deleted

    def save_summaries(self, summaries: Mapping[str, tuple[tuple[str, ...], int]]) -> None:
        if not summaries:
            return
        with self._engine.begin() as connection:
            for article_key, (sentences, count) in summaries.items():
                connection.execute(
                    update(articles)
                    .where(articles.c.id == article_key)
                    .values(summary=json.dumps(list(sentences)), sentence_count=count)
                )

    def stats(self) -> StoreStats:
        with self._engine.connect() as connection:
            feed_count = connection.execute(select(func.count()).select_from(feeds)).scalar_one()
            article_count = connection.execute(
                select(func.count()).select_from(articles)
            ).scalar_one()
            last = connection.execute(select(func.max(feeds.c.last_success_at))).scalar()
        return StoreStats(feeds=feed_count, articles=article_count, last_refresh_at=last)

    # Subscriptions

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
        with self._engine.begin() as connection:
            new_id = connection.execute(
                subscriptions.insert().values(
                    guild_id=guild_id,
                    user_id=user_id,
                    query=query,
                    delivery=delivery,
                    channel_id=channel_id,
                    created_at=at,
                    breaking_sources=breaking_sources,
                    breaking_minutes=breaking_minutes,
                )
            ).inserted_primary_key[0]
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == new_id)
            ).one()
        return _subscription(row._mapping)

    def list_subscriptions(self, guild_id: int, user_id: int | None = None) -> list[Subscription]:
        query = select(subscriptions).where(subscriptions.c.guild_id == guild_id)
        if user_id is not None:
            query = query.where(subscriptions.c.user_id == user_id)
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(subscriptions.c.id))
            return [_subscription(row._mapping) for row in rows]

    def active_subscriptions(self) -> list[Subscription]:
        """Every active subscription, for the alert index."""
        query = select(subscriptions).where(subscriptions.c.active).order_by(subscriptions.c.id)
        with self._engine.connect() as connection:
            return [_subscription(row._mapping) for row in connection.execute(query)]

    def remove_subscription(self, guild_id: int, user_id: int, subscription_id: int) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                subscriptions.delete().where(
                    subscriptions.c.id == subscription_id,
                    subscriptions.c.guild_id == guild_id,
                    subscriptions.c.user_id == user_id,
                )
            )
        return result.rowcount > 0

    # Schedules

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
        with self._engine.begin() as connection:
            new_id = connection.execute(
                schedules.insert().values(
                    guild_id=guild_id,
                    channel_id=channel_id,
                    time_of_day=time_of_day,
                    timezone=timezone,
                    days="".join(str(day) for day in days),
                    topic=topic,
                    created_by=created_by,
                    created_at=at,
                )
            ).inserted_primary_key[0]
            row = connection.execute(select(schedules).where(schedules.c.id == new_id)).one()
        return _schedule(row._mapping)

    def list_schedules(self, guild_id: int | None = None) -> list[Schedule]:
        query = select(schedules).order_by(schedules.c.id)
        if guild_id is not None:
            query = query.where(schedules.c.guild_id == guild_id)
        with self._engine.connect() as connection:
            return [_schedule(row._mapping) for row in connection.execute(query)]

    def remove_schedule(self, guild_id: int, schedule_id: int) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                schedules.delete().where(
                    schedules.c.id == schedule_id, schedules.c.guild_id == guild_id
                )
            )
        return result.rowcount > 0

    def delete_guild(self, guild_id: int) -> None:
        """Forget a guild: its feeds, subscriptions and schedules (articles stay shared)."""
        if guild_id == 0:
            raise StorageError("guild 0 holds the config file's feeds and cannot be deleted")
        with self._engine.begin() as connection:
            for table in (subscriptions, schedules, feeds):
                connection.execute(table.delete().where(table.c.guild_id == guild_id))

    @staticmethod
    def _known_in(connection: Connection, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            known.update(
                connection.execute(select(articles.c.id).where(articles.c.id.in_(chunk))).scalars()
            )
        return known


def fts_match_expression(query: str) -> str:
    """User words and "quoted phrases" as an FTS5 expression matching all of them."""
    terms = []
    for phrase, word in _QUERY_TOKEN.findall(query):
        words = _WORD.findall(phrase or word)
        if words:
            terms.append('"' + " ".join(words) + '"')
    return " ".join(terms[:_MAX_QUERY_TERMS])


SEARCH_CANDIDATES = 5000
"""How many of a query's newest matches a search ranks. bm25 costs about a microsecond and a
half per match, so a word found in a quarter of a million articles would take a third of a
second to rank in full; readers of news want the recent ones anyway."""
_NEWEST_RANKED = (
    "SELECT rowid AS pk, bm25(articles_fts, 10.0, 1.0) AS score FROM articles_fts "
    "WHERE articles_fts MATCH :match ORDER BY rowid DESC LIMIT :candidates"
)
"""The newest matches with their bm25 scores: the match is evaluated once, newest first, and
stops after :data:`SEARCH_CANDIDATES`."""
_RANK = text(f"SELECT pk, score FROM ({_NEWEST_RANKED}) ORDER BY score, pk DESC LIMIT :limit")
"""Equal scores go to the newer article."""
_NEWEST_MATCHES = text(
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :match "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
)
"""The rowid of the oldest match a search since a time ranks (none: every match is ranked)."""
_RANK_SINCE = text(
    "SELECT articles_fts.rowid AS pk, bm25(articles_fts, 10.0, 1.0) AS score "
    "FROM articles_fts JOIN articles ON articles.pk = articles_fts.rowid "
    "WHERE articles_fts MATCH :match AND articles_fts.rowid >= :floor "
    "AND articles.published_at >= :since ORDER BY score, pk DESC LIMIT :limit"
)
"""With a time limit, the newest matches are bounded first and the rest ranked with the
articles' dates at hand (a third faster than joining the ranked matches to their articles).
Equal scores go to the newer article."""


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _raise_busy(context: Any) -> None:
    """SQLite's "database is locked" (after the busy timeout) as :class:`StorageBusyError`,
    a full or failing disk as :class:`StorageFullError`: try again later, either way."""
    original = context.original_exception
    name = getattr(original, "sqlite_errorname", "")
    where = context.engine.url.database if context.engine is not None else "the database"
    if name.startswith("SQLITE_FULL") or "database or disk is full" in str(original):
        raise StorageFullError(f"the disk holding {where} is full") from None
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in str(original):
        # A write refused by the system (over a size limit: EFBIG) or a failing disk; the
        # statement (which may hold article text) stays out of the message.
        raise StorageFullError(
            f"cannot write to the disk holding {where} (full or failing)"
        ) from None
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(original):
        raise StorageBusyError(
            "the database is busy (another writer holds its lock); try again in a moment"
        ) from context.sqlalchemy_exception


def _insert_ignoring_duplicates(connection: Connection, table: Any) -> Any:
    dialect = connection.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def _success(state: FeedState, at: datetime) -> dict[str, Any]:
    return {
        "etag": state.etag,
        "last_modified": state.last_modified,
        "body_hash": state.body_hash,
        "last_success_at": at,
        "last_error": None,
        "failure_count": 0,
        "failing_since": None,
    }


def _enqueue(connection: Connection, deliveries: Sequence[NewDelivery], at: datetime) -> int:
    """Insert deliveries in one statement, ignoring known dedupe keys; how many were new."""
    if not deliveries:
        return 0
    rows = [
        {
            "dedupe_key": delivery.dedupe_key,
            "kind": delivery.kind,
            "guild_id": delivery.guild_id,
            "recipient_type": delivery.recipient_type,
            "recipient_id": delivery.recipient_id,
            "story_id": delivery.story_id,
            "subscription_id": delivery.subscription_id,
            "feed_id": delivery.feed_id,
            "schedule_id": delivery.schedule_id,
            "payload": delivery.payload,
            "next_attempt_at": at,
            "created_at": at,
        }
        for delivery in deliveries
    ]
    return connection.execute(_insert_ignoring_duplicates(connection, outbox), rows).rowcount


def _from_row(model: type[_Model], row: Mapping[str, Any], **derived: Any) -> _Model:
    """A model from the row's columns of the same names; ``derived`` gives the others."""
    names = (field.name for field in dataclasses.fields(model))  # type: ignore[arg-type]
    return model(**{name: row[name] for name in names if name not in derived}, **derived)


def _delivery(row: RowMapping) -> Delivery:
    return _from_row(Delivery, row)


def _article_row(article: NewArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "source_name": article.source_name,
        "feed_id": article.feed_id,
        "published_at": article.published_at,
        "first_seen_at": article.first_seen_at,
        "language": article.language,
        "text": article.text,
        "text_is_teaser": article.text_is_teaser,
        "backfill": article.backfill,
        "story_id": article.story_id or article.id,
    }


def _placeholder_name(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return host_name(url)
    return Path(url).name or url


def _feed(row: RowMapping) -> Feed:
    return _from_row(Feed, row, guild_id=row["guild_id"] or None)


def _subscription(row: RowMapping) -> Subscription:
    return _from_row(Subscription, row)


def _schedule(row: RowMapping) -> Schedule:
    return _from_row(Schedule, row, days=tuple(int(day) for day in row["days"]))


def _article(row: Mapping[str, Any]) -> Article:
    summary = row["summary"]
    return _from_row(Article, row, summary=tuple(json.loads(summary)) if summary else None)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _now() -> datetime:
    return datetime.now(UTC)
