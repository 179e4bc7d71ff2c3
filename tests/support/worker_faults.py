"""Functions the parser-pool tests run in worker processes (importable by name)."""

from __future__ import annotations

import os
import signal
import time

from bot.core.errors import ParseError


def echo(value: object) -> object:
    return value


def worker_pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def refuse(message: str) -> None:
    raise ParseError(message)


def fail_with_a_bug() -> None:
    raise KeyError("a bug")


def unpicklable_result() -> object:
    return lambda: None


class CallCounter:
    """A class named in calls: each worker keeps one instance, so the count goes on."""

    def __init__(self) -> None:
        self._calls = 0

    def __call__(self, step: int = 1) -> tuple[int, int]:
        self._calls += step
        return os.getpid(), self._calls
