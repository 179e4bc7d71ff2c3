"""``/recap``: a dated timeline of the stories matching a query, one quoted line per
development, every line adding something the lines before it did not say."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.core.answers import Quote, Recap, RecapStory
from bot.core.errors import ValidationError
from bot.core.models import Article
from bot.core.ports import Store
from bot.core.query import Query
from bot.pipeline.evidence import SentenceReader, novelty, quotable_sentences, redundancy
from bot.services.archive import ArchiveSearch, read_query

__all__ = ["MAX_DAYS", "RecapService"]

MAX_DAYS = 30
MAX_STORIES = 3
MAX_LINES = 12
LEAD_SENTENCES = 6
"""Only an article's first quotable sentences can be its line: the lead says what is new."""
MIN_NOVELTY = 0.5
MIN_NEW_TERMS = 3
MAX_REPEAT = 0.45
"""No two lines share more than this (cosine of their content words)."""
_CANDIDATE_HITS = 60


class RecapService:
    """Builds recaps from the archive (one service for every transport)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        archive: ArchiveSearch | None = None,
        reader: SentenceReader | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._archive = archive or ArchiveSearch(store)
        self._reader = reader or SentenceReader()

    async def recap(self, query: str, days: int = 7, *, guild_id: int | None = None) -> Recap:
        """The timeline of the best matching story (or the few top ones) over ``days``."""
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"days must be between 1 and {MAX_DAYS}, got {days}")
        parsed = read_query(query)
        return await asyncio.to_thread(self._recap, query.strip(), parsed, days, guild_id)

    def _recap(self, text: str, parsed: Query, days: int, guild_id: int | None) -> Recap:
        since = self._clock() - timedelta(days=days)
        hits = self._archive.hits(parsed, since=since, limit=_CANDIDATE_HITS, guild_id=guild_id)
        weight: dict[str, float] = {}
        for rank, hit in enumerate(hits):
            weight[hit.article.story_id] = weight.get(hit.article.story_id, 0.0) + 1 / (1 + rank)
        ranked = sorted(weight, key=weight.__getitem__, reverse=True)
        best = weight[ranked[0]] if ranked else 0.0
        stories = []
        for story_id in ranked[:MAX_STORIES]:
            if weight[story_id] < best / 3:
                break
            articles = [a for a in self._store.story_articles(story_id) if a.published_at >= since]
            if guild_id is not None and articles:
                visible = self._store.visible_article_ids(guild_id, [a.id for a in articles])
                articles = [a for a in articles if a.id in visible]
            story = self.timeline(story_id, articles)
            if story.lines:
                stories.append(story)
        return Recap(query=text, days=days, stories=tuple(stories))

    def timeline(self, story_id: str, articles: Sequence[Article]) -> RecapStory:
        """One story's lines, oldest first: from each article (in date order) its earliest
        lead sentence that is mostly new to the lines before it; none when it adds nothing."""
        ordered = sorted(articles, key=lambda a: (a.published_at, a.id))
        headline_terms = frozenset().union(*(self._reader.terms(a.title) for a in ordered))
        kept: list[frozenset[str]] = []
        lines: list[Quote] = []
        for article in ordered:
            if len(lines) >= MAX_LINES:
                break
            line = self._new_line(article, kept, headline_terms)
            if line is not None:
                quote, terms = line
                lines.append(quote)
                kept.append(terms)
        sources = tuple(dict.fromkeys(quote.source_name for quote in lines))
        title = ordered[0].title if ordered else ""
        return RecapStory(story_id=story_id, title=title, lines=tuple(lines), sources=sources)

    def _new_line(
        self, article: Article, kept: list[frozenset[str]], topic: frozenset[str]
    ) -> tuple[Quote, frozenset[str]] | None:
        seen = frozenset().union(*kept)
        for position, sentence in quotable_sentences(article.text)[:LEAD_SENTENCES]:
            terms = self._reader.terms(sentence)
            if not terms & topic:
                continue  # about something else (a caption, an aside)
            if novelty(terms, seen) < MIN_NOVELTY or len(terms - seen) < MIN_NEW_TERMS:
                continue
            if redundancy([*kept, terms]) <= MAX_REPEAT or not kept:
                return quote_of(article, sentence, position), terms
        return None


def quote_of(article: Article, sentence: str, position: int) -> Quote:
    """A quote of ``sentence`` (at ``position``) from ``article``."""
    return Quote(
        text=sentence,
        article_id=article.id,
        title=article.title,
        url=article.url,
        source_name=article.source_name,
        published_at=article.published_at,
        position=position,
    )
