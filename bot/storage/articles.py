"""Articles: storing a feed's batch (with its planned deliveries), reading, full-text
search, summaries and retention."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, func, or_, select, update

from bot.core.models import Article, FeedState, NewArticle, NewDelivery, SearchHit
from bot.core.ports import StoredBatch, StoreStats
from bot.core.query import Query
from bot.storage.base import StorePart, article_from_row
from bot.storage.engines import Dialect, SearchQuery, parse_search
from bot.storage.feeds import fetched_successfully
from bot.storage.outbox import enqueue_in, move_to_stories
from bot.storage.schema import article_feeds, articles, briefed_stories, feeds, outbox

__all__ = ["PRUNE_BATCH", "SEARCH_CANDIDATES", "ArticleStore"]

PRUNE_BATCH = 500
"""Articles deleted per transaction when pruning (each also leaves the full-text index)."""
SEARCH_CANDIDATES = 5000
"""How many of a query's newest matches a search ranks. bm25 costs about a microsecond and a
half per match, so a word found in a quarter of a million articles would take a third of a
second to rank in full; readers of news want the recent ones anyway."""
_CHUNK = 500


class ArticleStore(StorePart):
    """Articles and search."""

    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        with self._engine.connect() as connection:
            return _known_in(connection, wanted)

    def __init__(self, engine: Engine, dialect: Dialect) -> None:
        super().__init__(engine, dialect)
        self._pending: list[_PendingBatch] = []
        self._pending_lock = threading.Lock()
        self._writer = threading.Lock()

    def store_articles(
        self,
        feed_id: int,
        articles_in: Sequence[NewArticle],
        state: FeedState,
        at: datetime,
        deliveries: Mapping[str, Sequence[NewDelivery]] | None = None,
    ) -> StoredBatch:
        """Store one feed's batch: its articles (indexed for search), its links and state,
        and the deliveries planned for the articles it adds, all in one transaction.

        Group commit: feeds stored from several threads at once share one transaction. A
        thread queues its batch and waits for the writer; the first to get it writes every
        batch queued by then, so a transaction holds as many feeds as arrived while the last
        one was written, and nobody waits for a timer. A batch that cannot be written (the
        database refuses it) fails alone: the others are then written one by one.
        """
        request = _PendingBatch(feed_id, articles_in, state, at, deliveries or {})
        with self._pending_lock:
            self._pending.append(request)
        with self._writer:
            if not request.finished:
                with self._pending_lock:
                    group, self._pending = self._pending, []
                self._write(group)
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _write(self, group: list[_PendingBatch]) -> None:
        """Write ``group`` in one transaction, or each batch alone if that fails."""
        try:
            with self._engine.begin() as connection:
                results = [self._store_in(connection, request) for request in group]
        except Exception as error:
            if len(group) == 1:
                group[0].finish(error=error)
                return
            for request in group:
                self._write([request])
            return
        for request, result in zip(group, results, strict=True):
            request.finish(result)

    def _store_in(self, connection: Connection, request: _PendingBatch) -> StoredBatch:
        """One feed's batch, in the caller's transaction."""
        feed_id, at, state = request.feed_id, request.at, request.state
        unique = list({article.id: article for article in request.articles}.values())
        known = _known_in(connection, [a.id for a in unique])
        # One insert-or-ignore for the whole batch; RETURNING names the rows it added:
        # another feed's refresh may store the same article between our check and our
        # write, and then this one is simply not new.
        candidates = [_article_row(a) for a in unique if a.id not in known]
        added: set[str] = set()
        if candidates:
            insert = self._dialect.insert_ignoring(articles).returning(articles.c.id)
            added.update(connection.execute(insert, candidates).scalars())
        fresh = [a for a in unique if a.id in added]
        if unique:
            connection.execute(
                self._dialect.insert_ignoring(article_feeds),
                [{"article_id": a.id, "feed_id": feed_id, "first_seen_at": at} for a in unique],
            )
        connection.execute(
            update(feeds)
            .where(feeds.c.id == feed_id)
            .values(initialized=True, **fetched_successfully(state, at))
        )
        if state.title:
            connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id, feeds.c.auto_name)
                .values(name=state.title[:200])
            )
        planned = request.deliveries
        enqueue_in(connection, self._dialect, [d for a in fresh for d in planned.get(a.id, ())], at)
        return StoredBatch(new_ids=tuple(a.id for a in fresh), seen_count=len(unique) - len(fresh))

    def articles_between(
        self, since: datetime, until: datetime, *, limit: int, with_story: bool = False
    ) -> list[Article]:
        """Newest first; ``with_story``: only articles story clustering has placed."""
        query = (
            select(articles)
            .where(articles.c.published_at >= since, articles.c.published_at <= until)
            .order_by(articles.c.published_at.desc(), articles.c.pk.desc())
            .limit(limit)
        )
        if with_story:
            query = query.where(~articles.c.story_pending)
        with self._engine.connect() as connection:
            return [article_from_row(row._mapping) for row in connection.execute(query)]

    def articles_without_story(self, limit: int) -> list[Article]:
        """Articles stored without a story, in the order they were stored."""
        query = (
            select(articles).where(articles.c.story_pending).order_by(articles.c.pk).limit(limit)
        )
        with self._engine.connect() as connection:
            return [article_from_row(row._mapping) for row in connection.execute(query)]

    def set_stories(self, stories: Mapping[str, str]) -> None:
        """Place articles (by id) in their stories, in one transaction, with the deliveries
        planned for them (see :func:`~bot.storage.outbox.move_to_stories`)."""
        if not stories:
            return
        place = (
            update(articles)
            .where(articles.c.id == bindparam("b_id"))
            .values(story_id=bindparam("b_story"), story_pending=False)
        )
        with self._engine.begin() as connection:
            connection.execute(
                place, [{"b_id": key, "b_story": story} for key, story in stories.items()]
            )
            move_to_stories(connection, {a: s for a, s in stories.items() if a != s})

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
            rows = connection.execute(query.limit(count))
            return [article_from_row(row._mapping) for row in rows]

    def search(
        self, query: Query | str, *, since: datetime | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Best matches among the newest :data:`SEARCH_CANDIDATES` matches, ranked by the
        database engine's full-text index (see :meth:`Dialect.search`). A parsed query keeps
        its OR, NOT and phrases (its ``source:`` filters are the caller's to check); plain
        text requires every word."""
        parsed = parse_search(query) if isinstance(query, str) else query
        if isinstance(parsed, SearchQuery) and not parsed.phrases:
            return []
        with self._engine.connect() as connection:
            ranked = self._dialect.search(
                connection, parsed, since=since, limit=limit, candidates=SEARCH_CANDIDATES
            )
        return [
            SearchHit(article=article_from_row(hit.row), score=hit.score, snippet=hit.snippet)
            for hit in ranked
        ]

    def prune_articles(self, before: datetime, *, batch_size: int = PRUNE_BATCH) -> int:
        """Delete the articles published and first seen before ``before``, a batch per
        transaction (so writers wait for one batch at most), with their feed links and
        full-text entries; then the records of stories briefed before ``before`` that have
        no article left, and deliveries done (sent, failed, digested) before it. Returns how
        many articles went."""
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

    def story_articles(self, story_id: str) -> list[Article]:
        """The articles of one story, oldest first."""
        query = (
            select(articles)
            .where(articles.c.story_id == story_id)
            .order_by(articles.c.published_at, articles.c.pk)
        )
        with self._engine.connect() as connection:
            return [article_from_row(row._mapping) for row in connection.execute(query)]

    def story_sources_since(self, story_id: str, since: datetime) -> set[str]:
        """Distinct sources that covered a story since ``since`` (first seen)."""
        query = select(articles.c.source_name).where(
            articles.c.story_id == story_id, articles.c.first_seen_at >= since
        )
        with self._engine.connect() as connection:
            return set(connection.execute(query).scalars())


@dataclass(slots=True, eq=False)
class _PendingBatch:
    """One feed's batch waiting for the writer, then its outcome."""

    feed_id: int
    articles: Sequence[NewArticle]
    state: FeedState
    at: datetime
    deliveries: Mapping[str, Sequence[NewDelivery]]
    result: StoredBatch | None = None
    error: BaseException | None = None
    finished: bool = False

    def finish(
        self, result: StoredBatch | None = None, *, error: BaseException | None = None
    ) -> None:
        self.result, self.error, self.finished = result, error, True


def _known_in(connection: Connection, ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        known.update(
            connection.execute(select(articles.c.id).where(articles.c.id.in_(chunk))).scalars()
        )
    return known


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
        "story_pending": article.story_id is None,
    }


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
