"""Console input that waits on the event loop, so a stop signal never waits for a keypress."""

from __future__ import annotations

import asyncio
import codecs
import io
import os
import stat
from typing import TextIO

__all__ = ["InputLines"]

_CHUNK = 65536


class InputLines:
    """``readline`` for the console: pipes and terminals are awaited with the event loop's
    reader (cancellable, no thread left blocked in ``read``); files and in-memory text,
    which never block, are read directly."""

    def __init__(self, source: TextIO) -> None:
        self._source = source
        self._fd = _waitable_fd(source)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._ended = False

    async def readline(self) -> str:
        """The next line with its newline; "" at end of input."""
        while self._fd is not None and "\n" not in self._pending and not self._ended:
            try:
                chunk = await _read_when_ready(self._fd)
            except PermissionError:  # not pollable (/dev/null): it never blocks anyway
                self._fd = None
                break
            if chunk:
                self._pending += self._decoder.decode(chunk)
            else:
                self._pending += self._decoder.decode(b"", final=True)
                self._ended = True
        if self._fd is None and not self._pending:
            return self._source.readline()
        line, newline, rest = self._pending.partition("\n")
        self._pending = rest
        return line + newline


async def _read_when_ready(fd: int) -> bytes:
    """Wait until ``fd`` has input (or its end), then read what is there."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return os.read(fd, _CHUNK)


def _waitable_fd(source: TextIO) -> int | None:
    """The descriptor to await, for pipes, terminals and sockets; None for the rest."""
    try:
        fd = source.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return fd
