"""Periodic jobs on APScheduler that stop cleanly, and jobs that run in one process only.

APScheduler logs a job whose task is cancelled as an ERROR with a traceback. A stop
(SIGINT/SIGTERM) cancels the jobs still running on purpose: each job hands back what it had
claimed while it unwinds, and the stop waits for that before the store closes.

A single-runner job (story clustering, retention) runs only in the process holding its named
lock (a PostgreSQL advisory lock: released when the holder's connection ends, however the
process died). Every process with the role tries the lock on each run, so another one takes
the job over within one run interval of the lock's release.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import HeldLock

__all__ = ["PeriodicJobs", "SingleRunner"]

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]
TryLock = Callable[[str], HeldLock | None]
"""(lock name) -> the lock, or None when another process holds it."""


class SingleRunner:
    """Runs ``job`` only while this process holds the lock called ``name``.

    ``on_take_over`` runs each time this process becomes the holder (e.g. to rebuild the
    job's in-memory state from the store)."""

    def __init__(
        self,
        name: str,
        try_lock: TryLock,
        job: Job,
        *,
        on_take_over: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._try_lock = try_lock
        self._job = job
        self._on_take_over = on_take_over
        self._lock: HeldLock | None = None

    @property
    def holding(self) -> bool:
        """Whether this process held the lock at its last run."""
        return self._lock is not None

    async def run(self) -> Any:
        """The job's result, or None when another process holds the lock."""
        if self._lock is not None and not await asyncio.to_thread(self._lock.held):
            log.warning("lost the %s lock (its database connection ended)", self.name)
            self._lock = None
        if self._lock is None:
            self._lock = await asyncio.to_thread(self._try_lock, self.name)
            if self._lock is None:
                return None
            log.info("this process now runs %s", self.name)
            if self._on_take_over is not None:
                self._on_take_over()
        return await self._job()

    def release(self) -> None:
        """Let another process take the job over."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()


class PeriodicJobs:
    """One APScheduler interval job per kind of work; :meth:`stop` ends them cleanly."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[Any]] = set()
        self._single: list[SingleRunner] = []

    def add(self, job: Job, seconds: float, *, name: str | None = None) -> None:
        """Run ``job`` now and then every ``seconds``, never two runs at once."""
        name = name or getattr(job, "__qualname__", repr(job))

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

    def add_single(self, runner: SingleRunner, seconds: float) -> None:
        """Try ``runner``'s lock and run its job every ``seconds``; the stop releases it."""
        self._single.append(runner)
        self.add(runner.run, seconds, name=runner.name)

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
        for runner in self._single:
            await asyncio.to_thread(runner.release)
