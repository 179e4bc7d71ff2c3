"""A process's name among those sharing a database, provably its own while it runs.

Claims a process takes (feeds it polls) carry its name. A name is ``host:data_dir#slot``: the
slot is the lowest ``<data_dir>/instance-N.lock`` this process holds an exclusive ``flock`` on. The
kernel drops the lock when the process dies, however it dies, so a process that restarts on
the same host and folder gets its old name back, and the claims under that name are
leftovers of a dead process: no live process can hold that name at the same time.
"""

from __future__ import annotations

import fcntl
import os
import socket
from contextlib import ExitStack
from pathlib import Path

__all__ = ["InstanceName"]

MAX_SLOTS = 64


class InstanceName:
    """Holds one slot's lock until :meth:`release` (or the process's end)."""

    def __init__(self, data_dir: Path) -> None:
        self._stack = ExitStack()
        data_dir.mkdir(parents=True, exist_ok=True)
        for slot in range(MAX_SLOTS):
            handle = (data_dir / f"instance-{slot}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self._stack.enter_context(handle)
            self.name = f"{socket.gethostname()}:{data_dir.resolve()}#{slot}"
            self.slot = slot
            return
        raise RuntimeError(f"more than {MAX_SLOTS} newsbot processes share {data_dir}")

    def release(self) -> None:
        """Give the name up (a stopping process, after handing its claims back)."""
        self._stack.close()

    def __repr__(self) -> str:
        return f"InstanceName({self.name!r}, pid {os.getpid()})"
