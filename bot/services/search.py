"""Full-text search and the newest articles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.models import Article, SearchHit
from bot.core.ports import Store
from bot.services.archive import ArchiveSearch, read_query
from bot.services.summaries import SummaryService
from bot.services.validation import check_count, check_hours

__all__ = ["SearchService"]


class SearchService:
    """Ranked search over stored articles, and the latest ones."""

    def __init__(
        self, store: Store, summaries: SummaryService, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._summaries = summaries
        self._clock = clock
        self._archive = ArchiveSearch(store)

    async def search(
        self, query: str, hours: int | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Articles matching ``query`` (words, "phrases", OR, NOT, ``source:``; within
        ``hours`` if given), best first."""
        parsed = read_query(query)
        since = self._clock() - timedelta(hours=check_hours(hours)) if hours else None
        return await asyncio.to_thread(self._archive.hits, parsed, since=since, limit=limit)

    async def latest(self, count: int = 5, source: str | None = None) -> list[Article]:
        """The newest articles, optionally from one source, with their summaries."""
        count = check_count(count)

        def newest() -> list[Article]:
            return self._summaries.with_summaries(self._store.latest_articles(count, source=source))

        return await asyncio.to_thread(newest)
