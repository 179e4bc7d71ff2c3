"""``refresh_feed``: the one use case that turns a feed into stored articles.

The scheduler, ``newsbot fetch`` and the tests all call it. Fetching is async; parsing,
extraction and storage run off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.errors import ExtractionError, FetchError, ParseError
from bot.core.models import Feed, FeedEntry, FeedRefresh, NewArticle, ParsedFeed, PollHints
from bot.core.ports import DeliveryPlanner, FeedState, Store, StoredBatch
from bot.core.urls import article_id, canonical_url
from bot.pipeline.extract import extract_article
from bot.pipeline.isolation import IsolationLimits, ParserPool
from bot.pipeline.parse import ARTICLE_SUFFIXES, TokenizingFeedParser, parse_folder
from bot.pipeline.stories import StoryAssigner

if TYPE_CHECKING:
    from bot.pipeline.fetch import Fetcher

__all__ = ["Refresher"]

log = logging.getLogger(__name__)

_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_PAGES_PER_REFRESH = 30
_LINK_SCHEMES = ("http://", "https://", "file://")
"""Links with other schemes (javascript:, data:) are dropped; the entry keeps a urn: id."""
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,9})", re.IGNORECASE)


class Refresher:
    """Fetches, parses and stores feeds; one instance serves the whole process."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        clock: Callable[[], datetime],
        planner: DeliveryPlanner | None = None,
        stories: StoryAssigner | None = None,
        *,
        parsers: ParserPool | None = None,
        retention: timedelta | None = None,
    ) -> None:
        """``parsers``: worker processes that parse feeds and pages, bounded in time and
        memory; without it they are parsed in a thread of this process (tests).
        ``retention``: feed items published longer ago are not stored (they would be pruned
        at once, and one still listed after its article was pruned must not come back as
        new). Local folders are exempt."""
        self._store = store
        self._fetcher = fetcher
        self._clock = clock
        self._planner = planner
        self._stories = stories
        self._parsers = parsers or ParserPool(IsolationLimits(workers=0))
        self._retention = retention

    async def refresh_feed(self, feed: Feed, *, record_unchanged: bool = True) -> FeedRefresh:
        """Fetch ``feed`` once and store what is new; failures are recorded, not raised.

        With ``record_unchanged=False`` a feed that did not change is not written here: the
        result carries its caching state (``unrecorded``) for the caller to record with
        others in one transaction (the poller does, so a 304 costs no write of its own).
        """
        now = self._clock()
        try:
            loaded = await self._load(feed, record_unchanged)
            if loaded.parsed is None:
                return FeedRefresh(
                    feed=feed,
                    status="not modified",
                    hints=loaded.hints,
                    unrecorded=None if record_unchanged else loaded.state,
                    fetch_seconds=loaded.fetch_seconds,
                )
            parsed, state = loaded.parsed, loaded.state
            source_name = (parsed.title if feed.auto_name else None) or feed.name
            oldest = None if self._retention is None or feed.is_local else now - self._retention
            candidates = _new_articles(feed, source_name, parsed.entries, now, oldest)
            if feed.extract_full_text:
                candidates = await self._with_full_text(candidates)
            batch = await asyncio.to_thread(self._store_batch, feed, candidates, state, now)
        except (FetchError, ParseError) as error:
            log.info("feed %s failed: %s", feed.url, error, extra={"feed_id": feed.id})
            await asyncio.to_thread(self._store.record_feed_error, feed.id, str(error), now)
            hints = PollHints(
                http_status=getattr(error, "status", None),
                retry_after=getattr(error, "retry_after", None),
            )
            return FeedRefresh(
                feed=feed,
                status="error",
                error=str(error),
                hints=hints,
                error_kind=type(error).__name__,
            )
        return FeedRefresh(
            feed=feed,
            status="new" if batch.new_ids else "seen",
            new_articles=len(batch.new_ids),
            seen_articles=batch.seen_count,
            new_article_ids=batch.new_ids,
            hints=replace(loaded.hints, ttl_minutes=parsed.ttl_minutes),
            fetch_seconds=loaded.fetch_seconds,
            parse_seconds=loaded.parse_seconds,
        )

    def _store_batch(
        self, feed: Feed, candidates: list[NewArticle], state: FeedState, now: datetime
    ) -> StoredBatch:
        """Place the articles not stored yet in stories, plan their deliveries, then store
        everything in one transaction."""
        deliveries = None
        if candidates and (self._planner is not None or self._stories is not None):
            known = self._store.known_article_ids(a.id for a in candidates)
            if self._stories is not None:
                candidates = [
                    a if a.id in known else replace(a, story_id=self._stories.assign(a, now))
                    for a in candidates
                ]
            unknown = [a for a in candidates if a.id not in known]
            if self._planner is not None and unknown:
                deliveries = self._planner.plan(feed, unknown)
        return self._store.store_articles(feed.id, candidates, state, now, deliveries)

    async def _load(self, feed: Feed, record_unchanged: bool = True) -> _Loaded:
        """The parsed feed and its new caching state; no parse when nothing changed."""
        now = self._clock()

        async def unchanged(
            state: FeedState, hints: PollHints, fetch_seconds: float | None = None
        ) -> _Loaded:
            if record_unchanged:
                await asyncio.to_thread(self._store.record_not_modified, feed.id, state, now)
            return _Loaded(None, state, hints, fetch_seconds)

        if feed.is_local:
            parsed, body_hash = await asyncio.to_thread(_read_folder, Path(feed.url))
            state = FeedState(
                etag=None, last_modified=None, body_hash=body_hash, title=parsed.title
            )
            if body_hash == feed.body_hash:
                return await unchanged(state, PollHints())
            return _Loaded(parsed, state, PollHints())
        started = time.perf_counter()
        response = await self._fetcher.get(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        fetch_seconds = time.perf_counter() - started
        hints = PollHints(http_status=response.status, max_age=_max_age(response.headers))
        if response.not_modified:
            state = FeedState(
                etag=response.etag or feed.etag,
                last_modified=response.last_modified or feed.last_modified,
                body_hash=feed.body_hash,
            )
            return await unchanged(state, hints, fetch_seconds)
        body_hash = hashlib.sha256(response.body).hexdigest()
        state = FeedState(
            etag=response.etag, last_modified=response.last_modified, body_hash=body_hash
        )
        if body_hash == feed.body_hash:
            return await unchanged(state, hints, fetch_seconds)
        started = time.perf_counter()
        parsed = await self._parsers.call(
            TokenizingFeedParser,
            response.body,
            url=response.url,
            headers=dict(response.headers),
            error=ParseError,
            what="the feed",
        )
        parse_seconds = time.perf_counter() - started
        return _Loaded(
            parsed, replace(state, title=parsed.title), hints, fetch_seconds, parse_seconds
        )

    async def _with_full_text(self, candidates: list[NewArticle]) -> list[NewArticle]:
        """Replace teaser text by the article page's main text, for articles not yet stored."""
        known = await asyncio.to_thread(self._store.known_article_ids, [a.id for a in candidates])
        wanted = [a for a in candidates if a.id not in known and a.url.startswith("http")]
        extracted = await asyncio.gather(
            *(self._full_text(a) for a in wanted[:MAX_PAGES_PER_REFRESH])
        )
        by_id = {a.id: a for a in extracted}
        skipped = {a.id for a in wanted[MAX_PAGES_PER_REFRESH:]}
        return [
            by_id.get(a.id) or (replace(a, text_is_teaser=True) if a.id in skipped else a)
            for a in candidates
        ]

    async def _full_text(self, article: NewArticle) -> NewArticle:
        try:
            page = await self._fetcher.get(article.url, accept=_PAGE_ACCEPT)
            extracted = await self._parsers.call(
                extract_article, page.body, page.url, error=ExtractionError, what="the page"
            )
        except (FetchError, ExtractionError) as error:
            log.info("keeping the feed's teaser for %s: %s", article.url, error)
            return replace(article, text_is_teaser=True)
        return replace(article, text=extracted.text, match_tokens=None, cluster_reading=None)


@dataclass(frozen=True, slots=True)
class _Loaded:
    parsed: ParsedFeed | None
    """None when the feed did not change (a 304, or the same bytes as last time)."""
    state: FeedState
    hints: PollHints
    fetch_seconds: float | None = None
    parse_seconds: float | None = None


def _max_age(headers: Mapping[str, str]) -> int | None:
    """``max-age`` of a Cache-Control header, in seconds."""
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    return int(match.group(1)) if match else None


def _read_folder(folder: Path) -> tuple[ParsedFeed, str]:
    """A folder's articles and a hash of its files' names, sizes and times."""
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in ARTICLE_SUFFIXES and path.is_file():
                stat = path.stat()
                digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return parse_folder(folder), digest.hexdigest()


def _new_articles(
    feed: Feed,
    source_name: str,
    entries: Sequence[FeedEntry],
    now: datetime,
    oldest: datetime | None = None,
) -> list[NewArticle]:
    """Entries as storable articles: canonical URL, stable id, a sane publication time;
    entries published before ``oldest`` are left out."""
    articles: dict[str, NewArticle] = {}
    for entry in entries:
        if oldest is not None and entry.published is not None and entry.published < oldest:
            continue
        if entry.link and entry.link.lower().startswith(_LINK_SCHEMES):
            url = canonical_url(entry.link)
        else:
            fallback = entry.guid or f"{entry.title}\n{entry.text[:500]}"
            url = "urn:newsbot:" + article_id(feed.url + "\n" + fallback)
        key = article_id(url)
        published = entry.published or now
        if published > now + _FUTURE_TOLERANCE:
            published = now
        articles.setdefault(
            key,
            NewArticle(
                id=key,
                url=url,
                title=entry.title or "(untitled)",
                source_name=source_name,
                feed_id=feed.id,
                published_at=published,
                first_seen_at=now,
                text=entry.text,
                language=entry.language,
                backfill=not feed.initialized,
                match_tokens=entry.match_tokens if entry.title else None,
                cluster_reading=entry.cluster_reading if entry.title else None,
            ),
        )
    return list(articles.values())
