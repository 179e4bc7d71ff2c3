"""Parsing hostile documents in worker processes, bounded in time and memory.

feedparser's lenient parser is quadratic on some input (200 KB of attributes on one element
takes seconds, 10 MB would take hours) and a 10 MB document can need hundreds of MB while it
is parsed. In the bot's own process such a feed would hold a thread and the GIL for as long as
it likes, or exhaust memory for everyone. :class:`ParserPool` runs the parse in a small pool of
worker processes instead:

* each call has a wall-clock ``timeout``, counted from when its worker is ready to run it
  (a worker's start-up, and the imports and set-up a call's function needs the first time,
  are not counted: a slow machine's first parse must not fail); a worker that overruns it is
  killed and replaced;
* each worker's address space is capped (``RLIMIT_AS``, where the platform has it), so a
  document that needs too much memory fails alone with a :class:`MemoryError` in the worker;
* a worker that dies (killed, crashed) only fails the call it was running;
* workers are started on first use with the ``spawn`` method (no fork of a threaded process),
  reused for ``calls_per_worker`` calls, and stopped by :meth:`ParserPool.close` or when the
  bot's process ends (they exit at end of input);
* a call may name a class instead of a function: each worker makes one instance of it on
  first use and calls that for every later call naming the class, so caches (word stems)
  outlive one call without living in a module.

Every failure surfaces as the ``error`` type the caller names (e.g. :class:`ParseError`), with
a sentence, never as a crash. With ``workers=0`` the pool runs calls in a thread of this
process instead (no isolation; for platforms without ``multiprocessing`` support).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bot.core.errors import NewsbotError

__all__ = ["IsolationLimits", "ParserPool"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MIB = 1024 * 1024
_READY = "ready"
"""A worker's first answer to a call: imported and set up, now running it."""


@dataclass(frozen=True, slots=True)
class IsolationLimits:
    """How many workers, and how long and how much memory one call may take."""

    workers: int = 2
    """Worker processes (calls run in parallel up to this); 0 runs calls in a thread."""
    timeout: float = 30.0
    """Seconds one call may take, from when its worker is ready to run it."""
    startup: float = 300.0
    """Seconds a worker may take to start and import what a call needs (a safety net for a
    worker that hangs before it runs anything: no input reaches it before then)."""
    memory_bytes: int = 1024 * MIB
    """Address space of one worker process."""
    calls_per_worker: int = 500
    """A worker is replaced after this many calls, which returns its memory to the system."""

    def __post_init__(self) -> None:
        if (
            self.workers < 0
            or self.timeout <= 0
            or self.startup <= 0
            or self.memory_bytes < 64 * MIB
            or self.calls_per_worker < 1
        ):
            raise ValueError(f"invalid isolation limits: {self}")


@dataclass(slots=True, eq=False)
class _Worker:
    """One worker process and the parent's end of its pipe (compared by identity)."""

    process: multiprocessing.process.BaseProcess
    connection: Connection
    calls: int = 0


class ParserPool:
    """Runs module-level functions on untrusted input in worker processes."""

    def __init__(self, limits: IsolationLimits | None = None) -> None:
        self._limits = limits or IsolationLimits()
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._slots = asyncio.Semaphore(max(self._limits.workers, 1))
        self._threads = ThreadPoolExecutor(
            max(self._limits.workers, 1), thread_name_prefix="newsbot-parser"
        )
        """Threads that wait on the workers: their own, so that callers blocked in the
        default executor (waiting for a call of this pool) cannot starve the pool."""
        self._closed = False
        self._residents: dict[type, Callable[..., Any]] = {}
        """Instances of the classes calls named, when calls run in this process."""

    async def __aenter__(self) -> ParserPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def limits(self) -> IsolationLimits:
        return self._limits

    async def call(
        self,
        function: Callable[..., T],
        *args: Any,
        error: type[NewsbotError],
        what: str = "the document",
        **kwargs: Any,
    ) -> T:
        """``function(*args, **kwargs)`` in a worker. ``function`` must be importable by name
        (a module-level function, or a class whose instances are callable: see the module's
        notes). Its own :class:`NewsbotError` passes through; a timeout, memory exhaustion, a
        dead worker or any other exception raises ``error`` with a sentence about ``what``
        was being read."""
        if self._closed:
            raise error(f"cannot read {what}: the bot is shutting down")
        if self._limits.workers == 0:
            return await asyncio.to_thread(_resident(self._residents, function), *args, **kwargs)
        async with self._slots:
            worker = self._idle.pop() if self._idle else await self._start(error)
            self._busy.add(worker)
            keep = False
            try:
                outcome, value = await asyncio.get_running_loop().run_in_executor(
                    self._threads, self._exchange, worker, (function, args, kwargs)
                )
                keep = outcome != "fatal"
            except TimeoutError:
                seconds = self._limits.timeout
                raise error(
                    f"reading {what} took longer than {seconds:g} second"
                    f"{'' if seconds == 1 else 's'}"
                ) from None
            except (EOFError, OSError):
                raise error(
                    f"the parser stopped while reading {what} (exit code {worker.process.exitcode})"
                ) from None
            finally:
                self._busy.discard(worker)
                worker.calls += 1
                if keep and not self._closed and worker.calls < self._limits.calls_per_worker:
                    self._idle.append(worker)
                else:
                    _stop(worker)
        if outcome == "ok":
            return value  # type: ignore[no-any-return]
        if isinstance(value, NewsbotError):
            raise value
        log.warning("reading %s failed in the parser worker: %s", what, value)
        raise error(f"could not read {what}: {value}")

    async def close(self) -> None:
        """Stop every worker; later calls fail."""
        self._closed = True
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        for worker in workers:
            _stop(worker)
        await asyncio.to_thread(_reap, workers)
        self._threads.shutdown(wait=False)

    async def _start(self, error: type[NewsbotError]) -> _Worker:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, self._spawn)
        except OSError as failure:
            raise error(f"cannot start a parser process: {failure}") from None

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(theirs, self._limits.memory_bytes),
            name="newsbot-parser",
            daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _exchange(self, worker: _Worker, request: tuple[Any, ...]) -> tuple[str, Any]:
        """Send one call and wait for its answer (blocking: run in a thread). The timeout
        starts when the worker says it is ready to run the call."""
        worker.connection.send(request)
        if not worker.connection.poll(self._limits.startup):
            raise TimeoutError
        outcome, value = worker.connection.recv()
        if outcome != _READY:
            return outcome, value
        if not worker.connection.poll(self._limits.timeout):
            raise TimeoutError
        outcome, value = worker.connection.recv()
        return outcome, value


def _stop(worker: _Worker) -> None:
    """Kill the worker (a thread waiting on its pipe then sees the end of it) and close the
    pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if worker.process.is_alive():
            worker.process.kill()
    with contextlib.suppress(OSError, ValueError):
        worker.connection.close()


def _reap(workers: list[_Worker]) -> None:
    for worker in workers:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            worker.process.join(5)


# --- in the worker process ----------------------------------------------------------------


def _serve(connection: Connection, memory_bytes: int) -> None:
    """A worker's life: answer calls until the pool closes the connection."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_bytes)
    residents: dict[type, Callable[..., Any]] = {}
    while True:
        try:
            function, args, kwargs = connection.recv()
        except (EOFError, OSError):
            return
        answer = _outcome(memory_bytes, _resident, residents, function)
        if answer[0] == "ok":  # imported and set up (not timed): now the timed call
            target = answer[1]
            try:
                connection.send((_READY, None))
            except (EOFError, OSError):
                return
            answer = _outcome(memory_bytes, target, *args, **kwargs)
        try:
            connection.send(answer)
        except (EOFError, OSError):
            return
        except MemoryError:
            answer = ("fatal", f"its result needs more than {memory_bytes // MIB} MB of memory")
            connection.send(answer)
        except Exception as error:  # an answer that cannot be pickled
            connection.send(("error", f"its result could not be sent back: {error}"))
        if answer[0] == "fatal":
            return


def _outcome(
    memory_bytes: int, function: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[str, Any]:
    """``function(*args, **kwargs)``'s value or failure, as the answer sent to the pool."""
    try:
        return ("ok", function(*args, **kwargs))
    except NewsbotError as error:
        return ("error", error)
    except MemoryError:
        return ("fatal", f"it needs more than {memory_bytes // MIB} MB of memory")
    except RecursionError:
        return ("error", "it is nested too deeply")
    except Exception as error:  # a bug on one document must not end the worker
        return ("error", f"{type(error).__name__}: {error}")


def _resident(residents: dict[type, Callable[..., Any]], function: Any) -> Callable[..., Any]:
    """``function`` itself, or for a class the one instance of it in ``residents``."""
    if not isinstance(function, type):
        return function  # type: ignore[no-any-return]
    instance = residents.get(function)
    if instance is None:
        instance = residents.setdefault(function, function())
    return instance


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the timeout still applies
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
