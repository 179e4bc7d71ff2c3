"""Health: probes that name what is wrong, the heartbeat a running process writes, and the
check ``newsbot health`` makes of it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "STALE_AFTER_BEATS",
    "HealthMonitor",
    "Heartbeat",
    "HeartbeatRecord",
    "Probe",
    "heartbeat_path",
    "read_heartbeat",
]

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[str | None]]
"""Returns None when healthy, else a short reason such as "database unreachable"."""

PROBE_TIMEOUT = 5.0
STALE_AFTER_BEATS = 3
"""A heartbeat older than this many intervals means the process is stuck or gone."""


class HealthMonitor:
    """Runs every probe side by side; a probe that hangs or fails is itself a problem."""

    def __init__(self, probes: dict[str, Probe], *, timeout: float = PROBE_TIMEOUT) -> None:
        self._probes = dict(probes)
        self._timeout = timeout

    def add(self, name: str, probe: Probe) -> None:
        """One more probe (the gateway's, once the Discord client exists)."""
        self._probes[name] = probe

    async def problems(self) -> list[str]:
        """What is wrong now, in probe order; empty when healthy."""
        names = list(self._probes)
        results = await asyncio.gather(*(self._run(name) for name in names))
        return [problem for problem in results if problem]

    async def _run(self, name: str) -> str | None:
        try:
            return await asyncio.wait_for(self._probes[name](), self._timeout)
        except TimeoutError:
            return f"{name} did not answer within {self._timeout:g} s"
        except Exception as error:  # a broken probe is reported, never raised
            return f"{name} check failed: {error}"


def heartbeat_path(data_dir: Path) -> Path:
    """Where this host's process writes its heartbeat (one file per host or container, so
    processes sharing a data folder do not overwrite each other's)."""
    return data_dir / f"heartbeat-{socket.gethostname()}.json"


@dataclass(frozen=True, slots=True)
class HeartbeatRecord:
    """The last heartbeat: when, by which process, and what was wrong then."""

    at: datetime
    pid: int
    every_seconds: float
    problems: tuple[str, ...]


class Heartbeat:
    """Writes the heartbeat file every ``every`` seconds while the event loop is alive."""

    def __init__(
        self,
        path: Path,
        monitor: HealthMonitor,
        clock: Callable[[], datetime],
        *,
        every: float,
    ) -> None:
        self._path = path
        self._monitor = monitor
        self._clock = clock
        self._every = every

    async def run(self) -> None:
        """Beat until cancelled; a failed write is logged and retried on the next beat."""
        while True:
            problems = await self._monitor.problems()
            record = {
                "at": self._clock().isoformat(),
                "pid": os.getpid(),
                "every_seconds": self._every,
                "problems": problems,
            }
            try:
                await asyncio.to_thread(_write_atomically, self._path, json.dumps(record))
            except OSError as error:
                log.warning("cannot write the heartbeat %s: %s", self._path, error)
            await asyncio.sleep(self._every)

    def remove(self) -> None:
        """A clean stop leaves no heartbeat behind."""
        self._path.unlink(missing_ok=True)


def read_heartbeat(path: Path) -> HeartbeatRecord | None:
    """The heartbeat at ``path``, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return HeartbeatRecord(
            at=datetime.fromisoformat(data["at"]),
            pid=int(data["pid"]),
            every_seconds=float(data["every_seconds"]),
            problems=tuple(str(problem) for problem in data["problems"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
