"""One poll cycle over many unchanged feeds: every feed answers 304 Not Modified.

    python3 dev.py bench poll [--feeds 10000] [--hosts 16]

A loopback aiohttp server in its own process serves FEEDS small feeds spread over HOSTS
loopback addresses (127.0.0.1, 127.0.0.2, ...); the store holds the same feeds with the
server's ETags, all due now. In a fresh process the bot opens its services
(``open_services``) and runs one ``Poller.poll_due``: claim the due feeds in batches, send a
conditional GET for each, record the 304 and schedule the next poll. Prints wall time and CPU
time (this process's threads plus any children); asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    FeedServerProcess,
    ServedFiles,
    cpu_seconds,
    feed_path,
    machine_line,
    peak_rss_mib,
    print_table,
    rss_document,
    run_in_child,
)


def write_feeds(folder: Path, count: int) -> None:
    now = datetime.now(UTC)
    for number in range(count):
        path = folder / feed_path(number).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        item = (f"Story {number}", f"{{base}}/story/{number}", "<p>Unchanged.</p>", now)
        path.write_bytes(rss_document(f"Feed {number}", "{base}/", [item]))


def seed_store(database: Path, feeds: list[tuple[str, str]]) -> None:
    """Migrate a new store, then insert the feeds (URL, ETag) in one transaction."""
    from bot.storage.sql import SqlStore

    SqlStore.open(f"sqlite:///{database}").close()
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO feeds (url, name, guild_id, etag, initialized, created_at) "
            "VALUES (?, ?, 0, ?, 1, ?)",
            [(url, f"Feed {n}", etag, created) for n, (url, etag) in enumerate(feeds)],
        )


def run_bot(folder: str) -> dict:
    """In a fresh process: open the services on the seeded store and poll once."""
    return asyncio.run(_run_bot(Path(folder)))


async def _run_bot(folder: Path) -> dict:
    from bot.app import open_services
    from bot.config import FetchSettings, Settings

    settings = Settings(
        data_dir=folder, log_level="WARNING", fetch=FetchSettings(allow_networks=("127.0.0.0/8",))
    )
    async with open_services(settings) as services:
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        results = await services.poller.poll_due()
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    errors = [r.error for r in results if r.status == "error"][:3]
    return {"wall": wall, "cpu": cpu, "statuses": statuses, "errors": errors,
            "rss": peak_rss_mib()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=16, help="loopback addresses serving feeds")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="newsbot-poll-") as folder:
        served = Path(folder) / "served"
        write_feeds(served, args.feeds)
        with FeedServerProcess(ServedFiles(served, args.hosts)) as server:
            feeds = [
                (server.url(n, feed_path(n)), server.etags[feed_path(n)]) for n in range(args.feeds)
            ]
            seed_store(Path(folder) / "newsbot.db", feeds)
            bot = run_in_child(run_bot, folder)
        server_cpu = server.cpu_seconds
    if set(bot["statuses"]) != {"not modified"}:
        print(f"warning: statuses {bot['statuses']}, errors {bot['errors']}")
    feeds = sum(bot["statuses"].values())
    print_table(
        f"One poll cycle (Poller.poll_due): {args.feeds:,} due feeds on {args.hosts} loopback "
        "hosts, every one answering 304",
        ("feeds polled", "304s", "wall s", "feeds/s", "CPU s", "CPU ms/feed", "peak RSS MiB",
         "server CPU s"),
        [(
            f"{feeds:,}",
            f"{bot['statuses'].get('not modified', 0):,}",
            f"{bot['wall']:.1f}",
            f"{feeds / bot['wall']:,.0f}",
            f"{bot['cpu']:.1f}",
            f"{bot['cpu'] / max(feeds, 1) * 1000:.2f}",
            f"{bot['rss']:.0f}",
            f"{server_cpu:.1f}",
        )],
    )  # fmt: skip


if __name__ == "__main__":
    main()
