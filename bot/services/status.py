"""What ``/news status`` reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.ports import Store

__all__ = ["Status", "StatusService"]


@dataclass(frozen=True, slots=True)
class Status:
    """Uptime and the store's counts."""

    uptime: timedelta
    feeds: int
    articles: int
    last_refresh_at: datetime | None


class StatusService:
    """Reports on the running process and its database."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._started_at = clock()

    async def status(self) -> Status:
        """Uptime since this service was built, and the store's counts."""
        stats = await asyncio.to_thread(self._store.stats)
        return Status(
            uptime=self._clock() - self._started_at,
            feeds=stats.feeds,
            articles=stats.articles,
            last_refresh_at=stats.last_refresh_at,
        )
