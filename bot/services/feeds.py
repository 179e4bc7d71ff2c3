"""Configured feeds: keeping the store in step with the config, refreshing them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Protocol

from bot.core.models import Feed, FeedRefresh
from bot.core.ports import Store
from bot.pipeline.refresh import Refresher

__all__ = ["ConfiguredSource", "FeedService"]

CONFIG_GUILD = 0


class ConfiguredSource(Protocol):
    """What the feed service needs of a configured source."""

    url: str
    name: str
    extract_full_text: bool
    interval_minutes: int | None


class FeedService:
    """Feeds of the config file, and refreshing any set of feeds."""

    def __init__(self, store: Store, refresher: Refresher) -> None:
        self._store = store
        self._refresher = refresher

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

    async def refresh(self, urls: Sequence[str] = ()) -> list[FeedRefresh]:
        """Refresh every feed (or those whose URL is given), concurrently, in feed order.

        A URL that is not a configured feed is reported as an error line of its own.
        """
        feeds = await asyncio.to_thread(self._store.list_feeds)
        if urls:
            by_url = {feed.url: feed for feed in feeds}
            chosen = [by_url.get(url) for url in urls]
        else:
            chosen = list(feeds)
        tasks = [self._refresher.refresh_feed(feed) for feed in chosen if feed is not None]
        results = iter(await asyncio.gather(*tasks))
        return [
            next(results) if feed is not None else _not_configured(url)
            for url, feed in zip(urls or [f.url for f in chosen], chosen, strict=True)
        ]


def _not_configured(url: str) -> FeedRefresh:
    feed = Feed(id=0, url=url, name=url)
    return FeedRefresh(
        feed=feed,
        status="error",
        error="not a configured feed (add it to the config file or NEWSBOT_SOURCES)",
    )
