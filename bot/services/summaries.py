"""Summaries on demand: computed when a reader first needs them, then cached in the store.

Article text comes from strangers, so it is summarised in the parser workers, under their
timeout and memory cap; an article whose summary fails there gets its lead sentences instead,
and the bot's loop never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.core.errors import ExtractionError, FetchError, SummaryError
from bot.core.models import Article, SummarySentence
from bot.core.ports import Store
from bot.pipeline.extract import extract_article
from bot.pipeline.isolation import IsolationLimits, ParserPool
from bot.pipeline.parse import MAX_TEXT_CHARS
from bot.pipeline.summarize import (
    ResidentSummarizer,
    StoryDocument,
    StorySentence,
    Summarizer,
    Summary,
    lead_summary,
)

if TYPE_CHECKING:
    from bot.pipeline.fetch import Fetcher

__all__ = ["STORY_CACHE_SIZE", "PageSummary", "SummaryService"]

log = logging.getLogger(__name__)

STORY_CACHE_SIZE = 2048
"""Multi-article story summaries kept in memory (a few KB each)."""
_StorySummary = tuple[SummarySentence, ...]

_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"


@dataclass(frozen=True, slots=True)
class PageSummary:
    """A web page condensed: its title, final URL and summary."""

    url: str
    title: str
    summary: Summary


class SummaryService:
    """Summarises articles lazily and pages on request."""

    def __init__(
        self,
        store: Store,
        summarizer: Summarizer,
        fetcher: Fetcher,
        *,
        parsers: ParserPool | None = None,
        story_cache_size: int = STORY_CACHE_SIZE,
    ) -> None:
        self._store = store
        self._summarizer = summarizer
        self._fetcher = fetcher
        self._parsers = parsers or ParserPool(IsolationLimits(workers=0))
        self._story_cache: OrderedDict[tuple[str, ...], _StorySummary] = OrderedDict()
        self._story_cache_size = story_cache_size
        self._story_lock = threading.Lock()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # built outside a loop: summaries run in the caller's thread
            self._loop = None

    def with_summaries(self, articles: Sequence[Article]) -> list[Article]:
        """The articles with summaries filled in, computing and caching missing ones (sync)."""
        computed: dict[str, tuple[tuple[str, ...], int]] = {}
        result = []
        for article in articles:
            if article.summary is None:
                summary = self._summary(article.text, article.title)
                computed[article.id] = (summary.sentences, summary.sentence_count)
                article = replace(
                    article, summary=summary.sentences, sentence_count=summary.sentence_count
                )
            result.append(article)
        self._store.save_summaries(computed)
        return result

    def story_summary(self, articles: Sequence[Article]) -> tuple[SummarySentence, ...]:
        """One non-redundant summary of several articles on the same event (sync), each
        sentence knowing its article and source; the first article leads.

        Kept for the most recent stories (by their articles' ids, so a story that gains an
        article is summarised again): the next briefing showing it costs nothing."""
        key = tuple(a.id for a in articles)
        with self._story_lock:
            cached = self._story_cache.get(key)
            if cached is not None:
                self._story_cache.move_to_end(key)
                return cached
        documents = [StoryDocument(a.id, a.title, a.text) for a in articles]
        sources = {a.id: a.source_name for a in articles}
        summary = tuple(
            SummarySentence(text=s.text, article_id=s.article_id, source_name=sources[s.article_id])
            for s in self._story_sentences(documents)
        )
        with self._story_lock:
            self._story_cache[key] = summary
            while len(self._story_cache) > self._story_cache_size:
                self._story_cache.popitem(last=False)
        return summary

    async def summarize_url(self, url: str) -> PageSummary:
        """Fetch a page (same address rules as feeds), extract its article, summarise it."""
        page = await self._fetcher.get(url, accept=_PAGE_ACCEPT)
        content_type = (page.content_type or "").lower()
        if content_type.startswith("text/plain"):
            text, title = page.body.decode("utf-8", errors="replace"), ""
        elif content_type and "html" not in content_type and "xml" not in content_type:
            raise FetchError(f"{page.url} is {content_type}, not a web page")
        else:
            extracted = await self._parsers.call(
                extract_article, page.body, page.url, error=ExtractionError, what="the page"
            )
            text, title = extracted.text, extracted.title
        text = text[:MAX_TEXT_CHARS]
        try:
            summary = await self._in_worker("summarize", text, title)
        except SummaryError as error:
            log.warning("summarising %s failed, its lead stands in: %s", page.url, error)
            summary = lead_summary(text, self._summarizer.sentences)
        return PageSummary(url=page.url, title=title or page.url, summary=summary)

    def _summary(self, text: str, title: str) -> Summary:
        """One article's summary, or its lead when summarising fails (sync)."""
        try:
            return self._guarded("summarize", text, title)  # type: ignore[no-any-return]
        except SummaryError as error:
            log.warning("summarising %r failed, its lead stands in: %s", title[:80], error)
            return lead_summary(text, self._summarizer.sentences)

    def _story_sentences(self, documents: list[StoryDocument]) -> tuple[StorySentence, ...]:
        """A story's summary, or its first article's lead when summarising fails (sync)."""
        try:
            return self._guarded("summarize_story", documents)  # type: ignore[no-any-return]
        except SummaryError as error:
            log.warning("summarising a story failed, its lead stands in: %s", error)
            lead = documents[0]
            summary = lead_summary(lead.text, self._summarizer.sentences)
            return tuple(
                StorySentence(lead.article_id, text, index)
                for text, index in zip(summary.sentences, summary.indices, strict=True)
            )

    def _guarded(self, method: str, *args: object) -> object:
        """``self._summarizer.<method>(*args)`` in a parser worker, called from a thread that
        is not the loop's. Without workers, or called on the loop itself (which must not
        wait for its own work), it runs right here."""
        loop = self._loop
        if (
            loop is None
            or not loop.is_running()
            or self._parsers.limits.workers == 0
            or _running_loop() is loop
        ):
            return getattr(self._summarizer, method)(*args)
        call = asyncio.run_coroutine_threadsafe(self._in_worker(method, *args), loop)
        return call.result()

    async def _in_worker(self, method: str, *args: object) -> object:
        return await self._parsers.call(
            ResidentSummarizer,
            self._summarizer.config,
            method,
            *args,
            error=SummaryError,
            what="the article",
        )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
