"""Story assignment at ingest: each new article joins an open story or starts one."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from bot.core.models import Article, NewArticle
from bot.pipeline.cluster import (
    ClusterDocument,
    DocumentReading,
    ReadingSettings,
    StoryClusterer,
)

__all__ = ["StoryAssigner"]

PRUNE_EVERY = 500


class StoryAssigner:
    """A streaming clusterer shared by every feed's refresh (thread-safe)."""

    def __init__(self, clusterer: StoryClusterer | None = None) -> None:
        self._clusterer = clusterer or StoryClusterer()
        self._lock = threading.Lock()
        self._since_prune = 0

    def warm(self, articles: Iterable[Article]) -> int:
        """Replay stored articles (oldest first) so new ones can join their stories."""
        count = 0
        with self._lock:
            for article in articles:
                self._clusterer.add(
                    _document(
                        article.id,
                        article.title,
                        article.text,
                        article.published_at,
                        article.source_name,
                    )
                )
                count += 1
        return count

    @property
    def reading_settings(self) -> ReadingSettings:
        """How articles must be read (e.g. in a worker) for :meth:`assign`."""
        return self._clusterer.reading_settings

    def assign(
        self, article: NewArticle, now: datetime, reading: DocumentReading | None = None
    ) -> str:
        """The story id for a new article (its own id when it starts a story); ``reading``
        is the article already read, e.g. by a worker process."""
        with self._lock:
            story = self._clusterer.add(
                _document(
                    article.id,
                    article.title,
                    article.text,
                    article.published_at,
                    article.source_name,
                ),
                reading,
            )
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._clusterer.prune(now)
                self._since_prune = 0
        return story


def _document(key: str, title: str, text: str, published: datetime, source: str) -> ClusterDocument:
    return ClusterDocument(id=key, title=title, text=text, published=published, source=source)
