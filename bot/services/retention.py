"""Retention: articles older than the configured number of days leave the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.ports import Store

__all__ = ["RetentionService"]

log = logging.getLogger(__name__)


class RetentionService:
    """Deletes what is past retention; a periodic job calls :meth:`prune`."""

    def __init__(self, store: Store, clock: Callable[[], datetime], *, days: int) -> None:
        self._store = store
        self._clock = clock
        self._keep = timedelta(days=days)

    @property
    def keep(self) -> timedelta:
        """How long articles are kept."""
        return self._keep

    async def prune(self) -> int:
        """Delete the articles published and first seen before the retention period (in
        small batches, off the event loop); returns how many went."""
        before = self._clock() - self._keep
        deleted = await asyncio.to_thread(self._store.prune_articles, before)
        if deleted:
            log.info("retention: deleted %d articles older than %s", deleted, before.date())
        return deleted
