"""Feed parsing and article reading in worker processes, so ingest uses more than the one
core the GIL allows.

The pure half of ingest moves: parsing (feedparser, then HTML to text: a body in, a
:class:`~bot.core.models.ParsedFeed` out), extracting article pages (trafilatura) and, for
the articles not stored yet, *reading*
them: the clusterer's terms, names and near-duplicate signature
(:class:`~bot.pipeline.cluster.DocumentReading`) and alert matching's stems
(:class:`~bot.pipeline.query.DocumentTerms`). What needs the bot's state (which stories are
open, which subscriptions exist, the database) stays in the bot's process and takes the
readings as given. Workers start on first use (``forkserver`` where the platform has it, else
``spawn``: never a fork of a process running threads); a pool broken by a dying worker is
replaced, and that one job runs in this process instead.

Each worker keeps one :class:`~bot.pipeline.cluster.DocumentReader` and one
:class:`~bot.pipeline.query.QueryMatcher` for its lifetime (:func:`_readers`), since their
word caches are most of their speed: the one piece of module state in the pipeline, and it
only ever exists in worker processes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from bot.core.models import NewArticle, ParsedFeed
from bot.pipeline.cluster import DocumentReader, DocumentReading, ReadingSettings
from bot.pipeline.extract import ExtractedPage, extract_article
from bot.pipeline.parse import parse_feed
from bot.pipeline.query import DocumentTerms, MatchDocument, QueryMatcher

__all__ = ["ArticleReading", "ParserPool"]


@dataclass(frozen=True, slots=True)
class ArticleReading:
    """One article read in a worker: for story clustering and for alert matching."""

    story: DocumentReading
    terms: DocumentTerms


log = logging.getLogger(__name__)
_T = TypeVar("_T")


class ParserPool:
    """``processes`` worker processes parsing feeds; 0 parses in a thread of this process.

    Use as a context manager (or call :meth:`close`) so the workers are stopped.
    """

    def __init__(self, processes: int) -> None:
        if processes < 0:
            raise ValueError(f"processes must be 0 or more, not {processes}")
        self._processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def processes(self) -> int:
        """How many worker processes parse (0: none, threads of this process do)."""
        return self._processes

    async def parse(self, body: bytes, *, url: str, headers: Mapping[str, str]) -> ParsedFeed:
        """:func:`~bot.pipeline.parse.parse_feed` in a worker; its ``ParseError`` is raised
        here as if the parse had run in this process."""
        job = functools.partial(parse_feed, body, url=url, headers=dict(headers))
        return await self._run(job, f"parsing {url}")

    async def extract(self, page: bytes, url: str) -> ExtractedPage:
        """:func:`~bot.pipeline.extract.extract_article` in a worker (its
        ``ExtractionError`` raised here)."""
        return await self._run(functools.partial(extract_article, page, url), f"extracting {url}")

    async def read(
        self, articles: Sequence[NewArticle], settings: ReadingSettings
    ) -> dict[str, ArticleReading] | None:
        """Each article read in a worker, by id; None without workers (the clusterer and
        the alert planner then read the articles themselves)."""
        if not self._processes or not articles:
            return None
        documents = [(a.title, a.text, MatchDocument.of_article(a)) for a in articles]
        readings = await self._run(
            functools.partial(_read_articles, settings, documents), "reading articles"
        )
        return {article.id: reading for article, reading in zip(articles, readings, strict=True)}

    async def _run(self, job: functools.partial[_T], what: str) -> _T:
        executor = self._running_executor()
        if executor is None:
            return await asyncio.to_thread(job)
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, job)
        except BrokenProcessPool:
            log.warning("a worker process died; %s here and starting another", what)
            self._replace(executor)
            return await asyncio.to_thread(job)

    def close(self) -> None:
        """Stop the workers (waiting for parses under way)."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._processes = 0
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _running_executor(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and self._processes:
                methods = multiprocessing.get_all_start_methods()
                method = "forkserver" if "forkserver" in methods else "spawn"
                self._executor = ProcessPoolExecutor(
                    self._processes, mp_context=multiprocessing.get_context(method)
                )
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


@functools.cache
def _readers(settings: ReadingSettings) -> tuple[DocumentReader, QueryMatcher]:
    """This worker process's reader and matcher, made on first use and kept."""
    return DocumentReader(settings), QueryMatcher()


def _read_articles(
    settings: ReadingSettings, documents: Sequence[tuple[str, str, MatchDocument]]
) -> list[ArticleReading]:
    """Runs in a worker: read each (title, text, match document) for both consumers."""
    reader, matcher = _readers(settings)
    readings = [
        ArticleReading(reader.read(title, text), matcher.document_terms(document))
        for title, text, document in documents
    ]
    reader.trim()
    return readings
