"""The one query language applied to the archive: parse a query once, search the full-text
index with it, and check what the index cannot (``source:`` filters, a server's private feeds)."""

from __future__ import annotations

from datetime import datetime

from bot.core.models import SearchHit
from bot.core.ports import Store
from bot.core.query import Query
from bot.core.urls import host_name
from bot.pipeline.query import MatchDocument, QueryMatcher, parse_query
from bot.services.validation import check_query

__all__ = ["ArchiveSearch", "read_query"]

_SOURCE_OVERFETCH = 5
"""Hits read per hit wanted when ``source:`` filters or private feeds may drop some."""


def read_query(text: str) -> Query:
    """A user's query in the one language ``/search``, ``/recap``, ``/ask`` and
    ``/subscribe`` share; :class:`QueryError` or :class:`ValidationError` says what is wrong."""
    return parse_query(check_query(text))


class ArchiveSearch:
    """Full-text search with a parsed query (sync: callers run it off the event loop)."""

    def __init__(self, store: Store, matcher: QueryMatcher | None = None) -> None:
        self._store = store
        self._matcher = matcher or QueryMatcher()

    def hits(
        self,
        query: Query,
        *,
        since: datetime | None = None,
        limit: int = 10,
        guild_id: int | None = None,
    ) -> list[SearchHit]:
        """The best ``limit`` articles matching ``query``; with ``guild_id``, only articles
        that server may see (public feeds and its own)."""
        filtered = query.has_source() or guild_id is not None
        wanted = limit * _SOURCE_OVERFETCH if filtered else limit
        hits = self._store.search(query, since=since, limit=wanted)
        if query.has_source():
            hits = [hit for hit in hits if self._matches(query, hit)]
        if guild_id is not None and hits:
            visible = self._store.visible_article_ids(guild_id, [h.article.id for h in hits])
            hits = [hit for hit in hits if hit.article.id in visible]
        return hits[:limit]

    def _matches(self, query: Query, hit: SearchHit) -> bool:
        article = hit.article
        document = MatchDocument(
            title=article.title,
            text=article.text,
            source_host=host_name(article.url) if article.url.startswith("http") else "",
            source_name=article.source_name,
        )
        return self._matcher.matches(query, self._matcher.document_terms(document))
