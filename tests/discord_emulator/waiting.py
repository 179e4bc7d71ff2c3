"""Awaiting a condition on the emulator's state with a timeout."""

# ruff: noqa: ASYNC109 - the wait API takes timeouts, like asyncio.wait_for

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

__all__ = ["BotProcessExitedError", "EmulatorTimeoutError", "Notifier"]

T = TypeVar("T")


class EmulatorTimeoutError(TimeoutError):
    """A wait on the emulator ran out of time; the message says what was seen instead."""


class BotProcessExitedError(RuntimeError):
    """The watched bot process exited while a test was waiting for it."""


class Notifier:
    """Wakes waiters whenever the emulator's state changes."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []
        self.guard: Callable[[], str | None] | None = None

    def notify(self) -> None:
        """Tell every waiter to re-check its condition."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float,
        describe: Callable[[], str],
        poll: float = 0.05,
    ) -> T:
        """Return ``check()`` once it is neither None nor False.

        ``check`` runs after every state change and at least every ``poll`` seconds (so it
        may also look at things outside the emulator, such as the bot's cache). Raises
        EmulatorTimeoutError after ``timeout`` seconds, and BotProcessExitedError as soon as
        ``guard`` reports a problem.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            problem = self.guard() if self.guard is not None else None
            if problem is not None:
                raise BotProcessExitedError(f"{problem} while waiting for {describe()}")
            result = check()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorTimeoutError(f"timed out after {timeout:g}s waiting for {describe()}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait({waiter}, timeout=min(remaining, poll))
            finally:
                if not waiter.done():
                    waiter.cancel()
