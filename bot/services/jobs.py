"""Periodic jobs on APScheduler that stop cleanly: a job cut off by a stop is not an error.

APScheduler logs a job whose task is cancelled as an ERROR with a traceback. A stop
(SIGINT/SIGTERM) cancels the jobs still running on purpose: each job hands back what it had
claimed while it unwinds, and the stop waits for that before the store closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

__all__ = ["PeriodicJobs"]

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class PeriodicJobs:
    """One APScheduler interval job per kind of work; :meth:`stop` ends them cleanly."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[Any]] = set()

    def add(self, job: Job, seconds: float) -> None:
        """Run ``job`` now and then every ``seconds``, never two runs at once."""
        name = getattr(job, "__qualname__", repr(job))

        async def run() -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                return await job()
            except asyncio.CancelledError:
                log.info("%s stopped before it finished", name)
                return None
            finally:
                self._running.discard(task)

        self.scheduler.add_job(
            run,
            "interval",
            seconds=seconds,
            name=name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )

    def start(self) -> None:
        """Start the jobs (idempotent)."""
        if not self.scheduler.running:
            self.scheduler.start()

    async def stop(self, grace: float) -> None:
        """No new runs; cancel the runs in flight and wait up to ``grace`` seconds for them
        to unwind (hand back their claims)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = set(self._running)
        for task in running:
            task.cancel()
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            if late:
                log.warning("%d jobs did not stop within %s s", len(late), grace)
