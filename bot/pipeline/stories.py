"""Story assignment at ingest: each new article joins an open story or starts one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.core.models import Article, NewArticle
from bot.pipeline.cluster import ClusterDocument, StoryClusterer

__all__ = ["StoryAssigner"]

PRUNE_EVERY = 500

RecentArticles = Callable[[datetime], Iterable[Article]]
"""(now) -> the stored articles new ones may continue, oldest first."""


class StoryAssigner:
    """A streaming clusterer shared by every feed's refresh (thread-safe).

    With ``recent``, the stored recent articles are replayed before the first assignment, so
    new articles can join the stories they continue; commands that never ingest (a one-off
    ``newsbot brief``) pay nothing for it.
    """

    def __init__(
        self, clusterer: StoryClusterer | None = None, recent: RecentArticles | None = None
    ) -> None:
        self._clusterer = clusterer or StoryClusterer()
        self._recent = recent
        self._lock = threading.Lock()
        self._since_prune = 0

    def __len__(self) -> int:
        """Open stories held in memory."""
        return len(self._clusterer)

    def warm_up(self, now: datetime) -> None:
        """Replay the stored recent articles now (done by the first :meth:`assign` anyway)."""
        with self._lock:
            self._replay_recent(now)

    def assign(self, article: NewArticle, now: datetime) -> str:
        """The story id for a new article (its own id when it starts a story)."""
        with self._lock:
            self._replay_recent(now)
            story = self._clusterer.add(_document(article), article.cluster_reading)
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._clusterer.prune(now)
                self._since_prune = 0
        return story

    def _replay_recent(self, now: datetime) -> None:
        if self._recent is not None:
            recent, self._recent = self._recent, None
            for stored in recent(now):
                self._clusterer.add(_document(stored))


def _document(article: Article | NewArticle) -> ClusterDocument:
    return ClusterDocument(
        id=article.id,
        title=article.title,
        text=article.text,
        published=article.published_at,
        source=article.source_name,
    )
