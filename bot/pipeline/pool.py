"""Feed parsing in worker processes, so ingest uses more than the one core the GIL allows.

Parsing (feedparser, then HTML to text) is about a third of the CPU time of a new item and
needs nothing but the bytes, so it is the part worth moving: the workers take a body and
give back a :class:`~bot.core.models.ParsedFeed`. Clustering, alert matching and storage stay
in the bot's process, where their state is. Workers start on first use (``forkserver`` where
the platform has it, else ``spawn``: never a fork of a process running threads), and a pool
broken by a dying worker is replaced; that one feed is parsed in a thread instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from bot.core.models import ParsedFeed
from bot.pipeline.parse import parse_feed

__all__ = ["ParserPool"]

log = logging.getLogger(__name__)


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
        executor = self._running_executor()
        if executor is None:
            return await asyncio.to_thread(job)
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, job)
        except BrokenProcessPool:
            log.warning("a feed parser process died; parsing %s here and starting another", url)
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
