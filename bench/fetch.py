"""Fetcher speed and memory against the loopback hostile server; prints tables.

Run from the repository root: ``python3 dev.py bench fetch``.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.support
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import machine_line, print_table

from bot.core.errors import ResponseTooLargeError
from bot.pipeline.fetch import Fetcher, FetchLimits
from tests.support.bombs import build_gzip_bomb
from tests.support.hostile_server import FEED_BODY, HostileServer

MIB = 1024 * 1024


async def _throughput(server: HostileServer) -> None:
    feed = FEED_BODY * 300  # about 45 KiB of XML
    server.respond("/big-feed", headers=[("Content-Encoding", "gzip")], body=gzip.compress(feed))
    rows = []
    for per_host in (1, 2, 6, 20):
        limits = FetchLimits(allow_networks=(server.endpoint,), max_per_host=per_host)
        async with Fetcher(limits) as fetcher:
            started = time.perf_counter()
            await asyncio.gather(*(fetcher.get(server.url("/big-feed")) for _ in range(300)))
            elapsed = time.perf_counter() - started
        rows.append(
            (per_host, 300, f"{len(feed) / 1024:.0f}", f"{elapsed:.2f}", f"{300 / elapsed:.0f}")
        )
    print_table(
        "300 gzip feed fetches from one loopback host (connections kept alive)",
        ("max_per_host", "requests", "KiB/feed", "seconds", "req/s"),
        rows,
    )


async def _bomb(server: HostileServer) -> None:
    bomb = build_gzip_bomb(512)
    server.respond("/bomb", headers=[("Content-Encoding", "gzip, gzip")], body=bomb)
    rows = []
    for cap_mib in (1, 10):
        limits = FetchLimits(allow_networks=(server.endpoint,), max_body_bytes=cap_mib * MIB)
        async with Fetcher(limits) as fetcher:
            tracemalloc.start()
            started = time.perf_counter()
            try:
                await fetcher.get(server.url("/bomb"))
                outcome = "accepted?!"
            except ResponseTooLargeError:
                outcome = "refused"
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        rows.append(
            (
                f"{len(bomb) / 1024:.1f}",
                512,
                cap_mib,
                outcome,
                f"{elapsed * 1000:.0f}",
                f"{peak / MIB:.1f}",
            )
        )
    print_table(
        "double-gzip bomb",
        ("wire KiB", "inflated MiB", "cap MiB", "outcome", "ms", "peak traced MiB"),
        rows,
    )


async def _large_body(server: HostileServer) -> None:
    text = FEED_BODY * (9 * MIB // len(FEED_BODY))
    server.respond("/large", headers=[("Content-Encoding", "gzip")], body=gzip.compress(text))
    server.respond("/large-plain", body=text)
    rows = []
    for path, label in (("/large", "gzip"), ("/large-plain", "identity")):
        async with Fetcher(FetchLimits(allow_networks=(server.endpoint,))) as fetcher:
            started = time.perf_counter()
            response = await fetcher.get(server.url(path))
            elapsed = time.perf_counter() - started
        rows.append(
            (
                label,
                f"{len(response.body) / MIB:.1f}",
                f"{elapsed * 1000:.0f}",
                f"{len(response.body) / MIB / elapsed:.0f}",
            )
        )
    print_table("one 9 MiB body", ("encoding", "MiB decoded", "ms", "MiB/s"), rows)


async def main() -> None:
    print(machine_line())
    async with HostileServer() as server:
        await _throughput(server)
        await _bomb(server)
        await _large_body(server)


if __name__ == "__main__":
    asyncio.run(main())
