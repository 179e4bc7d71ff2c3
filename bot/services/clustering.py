"""Story clustering as a job, for stores that several processes write (PostgreSQL).

Pollers store new articles without a story (each is provisionally its own story). One
process, the holder of the ``newsbot:stories`` lock (see :class:`SingleRunner`), places them
in stories in the order they were stored, whichever process stored them, with the same
streaming clusterer a single process uses at ingest: so the stories come out the same. Its
in-memory state exists only in the holder; a process that takes over rebuilds it from the
stored recent articles, then continues with the articles still waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.core.ports import Store
from bot.pipeline.stories import StoryAssigner

__all__ = ["STORIES_LOCK", "StoryClustering"]

log = logging.getLogger(__name__)

STORIES_LOCK = "newsbot:stories"
BATCH = 500


class StoryClustering:
    """Places the articles stored without a story, oldest first, a batch per transaction."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        new_assigner: Callable[[], StoryAssigner],
        *,
        batch_size: int = BATCH,
    ) -> None:
        """``new_assigner``: a clusterer that warms up from the store's placed articles."""
        self._store = store
        self._clock = clock
        self._new_assigner = new_assigner
        self._assigner: StoryAssigner | None = None
        self._batch_size = batch_size

    def take_over(self) -> None:
        """This process now holds the job: start from the store, not from stale memory."""
        self._assigner = self._new_assigner()

    async def run(self) -> int:
        """Place every waiting article; returns how many were placed."""
        return await asyncio.to_thread(self.place_waiting)

    def place_waiting(self) -> int:
        """:meth:`run`, synchronously."""
        if self._assigner is None:
            self.take_over()
        assert self._assigner is not None
        placed = 0
        while True:
            waiting = self._store.articles_without_story(self._batch_size)
            if not waiting:
                return placed
            now = self._clock()
            stories = {a.id: self._assigner.assign_stored(a, now) for a in waiting}
            self._store.set_stories(stories)
            placed += len(stories)
            if len(waiting) < self._batch_size:
                log.debug("placed %d articles in stories", placed)
                return placed
