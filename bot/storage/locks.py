"""Named locks: jobs that must have one runner at a time among all processes."""

from __future__ import annotations

from bot.core.ports import HeldLock
from bot.storage.base import StorePart

__all__ = ["LockStore"]


class LockStore(StorePart):
    """Named locks (PostgreSQL advisory locks; on SQLite, within this one process)."""

    def try_lock(self, name: str) -> HeldLock | None:
        """Take the lock called ``name`` if no one holds it, else None at once.

        On PostgreSQL it is a session-level advisory lock (``pg_try_advisory_lock`` of a
        64-bit hash of the name) on a pooled connection kept for as long as the lock is held:
        another process's ``try_lock`` of the same name gets None until this one calls
        ``release()`` (or leaves its ``with`` block), or until this process dies and its
        connection with it, which frees the lock at once. A holder should check ``held()``
        between units of work: it turns False if the connection was lost (then someone
        else may hold the lock). On SQLite, which serves one process, the lock only keeps
        two jobs of this store from holding the same name at once.

        Use: ``lock = store.try_lock("cluster")``; when not None, run the job and call
        ``lock.release()`` when done, or keep it and check ``lock.held()`` periodically."""
        return self._dialect.try_lock(self._engine, name)
