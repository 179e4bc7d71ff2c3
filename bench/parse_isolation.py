"""What parsing feeds in worker processes costs, and what it bounds; prints tables.

Run from the repository root: ``python3 dev.py bench parse_isolation``. Reads the real-world
captures of ``../shared/data/feeds`` when present (else the repository's fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.support
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import machine_line, print_table

from bot.core.errors import ParseError
from bot.pipeline.isolation import MIB, IsolationLimits, ParserPool
from bot.pipeline.parse import parse_feed
from tests.support.hostile_feeds import HOSTILE_FEEDS

REPO = Path(__file__).resolve().parents[1]


def _documents() -> tuple[str, list[bytes]]:
    for folder in (REPO.parent / "shared" / "data" / "feeds", Path("/work/shared/data/feeds")):
        real = folder / "real-world"
        if real.is_dir():
            files = sorted(p for p in real.rglob("*") if p.is_file())
            return f"{len(files)} real-world captures", [p.read_bytes() for p in files]
    files = sorted((REPO / "tests" / "fixtures" / "feeds").iterdir())
    return f"{len(files)} repository fixtures", [p.read_bytes() for p in files]


async def _parse_all(pool: ParserPool, documents: list[bytes]) -> float:
    async def one(body: bytes) -> None:
        with contextlib.suppress(ParseError):
            await pool.call(parse_feed, body, error=ParseError)

    started = time.perf_counter()
    await asyncio.gather(*(one(body) for body in documents))
    return time.perf_counter() - started


async def _cost() -> None:
    what, documents = _documents()
    size = sum(len(body) for body in documents) / MIB
    rows = []
    for workers in (0, 1, 2):
        async with ParserPool(IsolationLimits(workers=workers)) as pool:
            started = time.perf_counter()
            await pool.call(parse_feed, documents[0], error=ParseError)
            first = time.perf_counter() - started
            rounds = [await _parse_all(pool, documents) for _ in range(3)]
        best = min(rounds)
        label = "thread (no isolation)" if workers == 0 else f"{workers} worker process(es)"
        rows.append(
            (
                label,
                f"{first * 1000:.0f}",
                f"{best * 1000:.0f}",
                f"{best * 1000 / max(len(documents), 1):.2f}",
                f"{size / best:.1f}",
            )
        )
    print_table(
        f"Parsing {what} ({size:.1f} MiB), all at once, best of 3 (first call starts workers)",
        ("parsed in", "first call ms", "all ms", "ms/feed", "MiB/s"),
        rows,
    )


async def _bounds() -> None:
    rows = []
    limits = IsolationLimits(workers=1, timeout=5.0, memory_bytes=512 * MIB)
    async with ParserPool(limits) as pool:
        for name in ("many-attributes", "entity-bomb-utf-16-le", "many-items", "json-deep"):
            body = HOSTILE_FEEDS[name]().body
            started = time.perf_counter()
            try:
                feed = await pool.call(parse_feed, body, error=ParseError)
                outcome = f"{len(feed.entries)} entries"
            except ParseError as error:
                outcome = str(error)[:60]
            rows.append(
                (name, f"{len(body) / 1024:.0f}", f"{time.perf_counter() - started:.2f}", outcome)
            )
    print_table(
        "Hostile documents in a worker (timeout 5 s, 512 MB); the bot's process is untouched",
        ("document", "KiB", "seconds", "outcome"),
        rows,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this (parent) process: {peak:.0f} MB")


if __name__ == "__main__":
    print(machine_line())
    asyncio.run(_cost())
    asyncio.run(_bounds())
