"""Configured feeds: keeping the store in step with the config, refreshing them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from bot.core.errors import ValidationError
from bot.core.models import Feed, FeedRefresh
from bot.core.ports import Store
from bot.pipeline.opml import OpmlFeed, export_opml, parse_opml
from bot.pipeline.refresh import Refresher
from bot.services.polling import CLAIM_LEASE, PollPolicy, plan_next_poll

__all__ = [
    "AddedFeed",
    "ConfiguredSource",
    "FeedService",
    "ImportReport",
    "check_feed_url",
]

_T = TypeVar("_T")

CONFIG_GUILD = 0
MAX_URL_CHARS = 2048


class ConfiguredSource(Protocol):
    """What the feed service needs of a configured source."""

    url: str
    name: str
    extract_full_text: bool
    interval_minutes: int | None


@dataclass(frozen=True, slots=True)
class AddedFeed:
    """A feed a guild added, with what its first fetch found."""

    feed: Feed
    refresh: FeedRefresh


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an OPML import did, feed by feed."""

    added: tuple[AddedFeed, ...]
    failed: tuple[tuple[str, str], ...]
    """(url, reason) for each feed that was not added."""


class FeedService:
    """Feeds of the config file and of guilds, and refreshing any set of feeds."""

    def __init__(
        self,
        store: Store,
        refresher: Refresher,
        clock: Callable[[], datetime],
        poll_policy: PollPolicy,
        *,
        max_per_guild: int = 50,
    ) -> None:
        self._store = store
        self._refresher = refresher
        self._clock = clock
        self._poll_policy = poll_policy
        self._max_per_guild = max_per_guild

    async def sync_config_sources(self, sources: Iterable[ConfiguredSource]) -> list[Feed]:
        """Make the config file's sources the store's guild-0 feeds: add, update, remove."""

        def sync() -> list[Feed]:
            wanted = [
                self._store.add_feed(
                    source.url,
                    source.name,
                    guild_id=CONFIG_GUILD,
                    extract_full_text=source.extract_full_text,
                    interval_minutes=source.interval_minutes,
                )
                for source in sources
            ]
            keep = {feed.id for feed in wanted}
            for feed in self._store.list_feeds(CONFIG_GUILD):
                if feed.id not in keep:
                    self._store.remove_feed(feed.id)
            return wanted

        return await asyncio.to_thread(sync)

    async def refresh(
        self,
        urls: Sequence[str] = (),
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[FeedRefresh]:
        """Refresh every feed (or those whose URL is given), concurrently, in feed order.

        A URL that is not a configured feed is reported as an error line of its own.
        ``progress`` is told (done, total) as each refresh finishes.
        """
        feeds = await asyncio.to_thread(self._store.list_feeds)
        if urls:
            by_url = {feed.url: feed for feed in feeds}
            chosen = [by_url.get(url) for url in urls]
        else:
            chosen = list(feeds)
        tasks = [self._refresher.refresh_feed(feed) for feed in chosen if feed is not None]
        if progress is not None:
            tasks = _counted(tasks, progress)
        results = iter(await asyncio.gather(*tasks))
        return [
            next(results) if feed is not None else _not_configured(url)
            for url, feed in zip(urls or [f.url for f in chosen], chosen, strict=True)
        ]

    async def add_guild_feed(
        self,
        guild_id: int,
        url: str,
        *,
        channel_id: int | None = None,
        interval_minutes: int | None = None,
        name: str | None = None,
        created_by: int | None = None,
    ) -> AddedFeed:
        """Add a feed for a guild after fetching it once; a feed that fails is not added.

        The first fetch records what the feed already holds as seen, so nothing old is posted.
        The poller leaves the new feed alone meanwhile (it is added with a claim on its first
        poll), and polls it next as it would after any poll: after its interval.
        """
        url = check_feed_url(url)
        feeds = await asyncio.to_thread(self._store.list_feeds, guild_id)
        if any(feed.url == url for feed in feeds):
            raise ValidationError(f"this server already follows {url}")
        if len(feeds) >= self._max_per_guild:
            raise ValidationError(
                f"this server already has {self._max_per_guild} feeds, the most allowed"
            )
        feed = await asyncio.to_thread(
            self._store.add_feed,
            url,
            name,
            guild_id=guild_id,
            channel_id=channel_id,
            interval_minutes=interval_minutes,
            created_by=created_by,
            next_poll_at=self._clock() + CLAIM_LEASE,
        )
        refresh = await self._refresher.refresh_feed(feed)
        if refresh.status == "error":
            await asyncio.to_thread(self._store.remove_feed, feed.id)
            raise ValidationError(f"could not add {url}: {refresh.error}")
        named = await asyncio.to_thread(self._schedule_after_first_poll, feed, refresh)
        return AddedFeed(feed=named or feed, refresh=refresh)

    def _schedule_after_first_poll(self, feed: Feed, refresh: FeedRefresh) -> Feed | None:
        """Set the new feed's next poll by the poller's rules; the feed as stored now."""
        now = self._clock()
        plan = plan_next_poll(feed, refresh, now, self._poll_policy)
        ttl = refresh.hints.ttl_minutes
        self._store.schedule_next_poll(feed.id, plan.at, ttl_minutes=ttl)
        return self._store.get_feed(feed.id)

    async def remove_guild_feed(self, guild_id: int, feed_id: int) -> Feed:
        """Stop following one of the guild's feeds; its stored articles stay."""
        feed = await asyncio.to_thread(self._store.get_feed, feed_id)
        if feed is None or (feed.guild_id or 0) != guild_id:
            raise ValidationError(f"this server has no feed #{feed_id}")
        await asyncio.to_thread(self._store.remove_feed, feed_id)
        return feed

    async def resume_guild_feed(self, guild_id: int, feed_id: int, at: datetime) -> Feed:
        """Unpause one of the guild's feeds; it is polled again at once."""
        feed = await asyncio.to_thread(self._store.get_feed, feed_id)
        if feed is None or (feed.guild_id or 0) != guild_id:
            raise ValidationError(f"this server has no feed #{feed_id}")
        await asyncio.to_thread(self._store.resume_feed, feed_id, at)
        return feed

    async def guild_feeds(self, guild_id: int) -> list[Feed]:
        """The guild's feeds with their health (last success, last error, next poll)."""
        return await asyncio.to_thread(self._store.list_feeds, guild_id)

    async def import_opml(
        self,
        guild_id: int,
        document: bytes,
        *,
        channel_id: int | None = None,
        created_by: int | None = None,
    ) -> ImportReport:
        """Add every feed of an OPML file; each one that fails is reported, not fatal."""
        entries = await asyncio.to_thread(parse_opml, document)
        if not entries:
            raise ValidationError("the OPML file lists no feeds (no outline has an xmlUrl)")
        added, failed = [], []
        for entry in entries:
            try:
                added.append(
                    await self.add_guild_feed(
                        guild_id,
                        entry.url,
                        channel_id=channel_id,
                        name=entry.title,
                        created_by=created_by,
                    )
                )
            except ValidationError as error:
                failed.append((entry.url, str(error)))
        return ImportReport(added=tuple(added), failed=tuple(failed))

    async def export_opml(self, guild_id: int) -> bytes:
        """The guild's feeds as an OPML document."""
        feeds = await asyncio.to_thread(self._store.list_feeds, guild_id)
        return export_opml([OpmlFeed(title=feed.name, url=feed.url) for feed in feeds])


def check_feed_url(url: str) -> str:
    """An http(s) URL of at most 2048 characters, or :class:`ValidationError`."""
    cleaned = url.strip()
    if len(cleaned) > MAX_URL_CHARS:
        raise ValidationError(f"the URL is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"“{url[:100]}” is not an http(s) URL")
    return cleaned


def _not_configured(url: str) -> FeedRefresh:
    feed = Feed(id=0, url=url, name=url)
    return FeedRefresh(
        feed=feed,
        status="error",
        error="not a configured feed (add it to the config file or NEWSBOT_SOURCES)",
    )


def _counted(
    tasks: list[Coroutine[Any, Any, _T]], progress: Callable[[int, int], None]
) -> list[Coroutine[Any, Any, _T]]:
    """The same coroutines, each telling ``progress`` (done, total) when it finishes."""
    total, done = len(tasks), 0
    progress(0, total)

    async def counted(task: Coroutine[Any, Any, _T]) -> _T:
        nonlocal done
        try:
            return await task
        finally:
            done += 1
            progress(done, total)

    return [counted(task) for task in tasks]
