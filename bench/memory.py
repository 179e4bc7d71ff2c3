"""Memory of a running bot holding 10,000 feeds and a large store.

    python3 dev.py bench memory [--size 100000] [--briefs 20] [--searches 100]
    python3 dev.py bench memory --size 1000000

Uses the cached store of ``bench/search.py`` (built on first use: about a minute for 100k
articles, eight minutes for 1M on a 2-core machine), which also holds 10,000 feeds. A loopback
server in its own process answers each feed with a 304. In a fresh process the bot opens its
services on the store (migrations, subscriptions), warms story clustering up with the stored
articles of the last 7 days (as its first ingest would), runs one poll cycle over the 10,000
due feeds, then briefings (first calls and cached, with and without a topic) and searches.
The measured process runs this file with ``--child`` and imports nothing but the bot. Prints
the resident set size after each stage and the peak (``ru_maxrss``) of the bot's process and
of any worker processes; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

# Only the standard library at module level: the measured process runs this file with
# --child and must hold nothing but the bot.
ROOT = Path(__file__).resolve().parents[1]


def current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bot(arguments: dict) -> dict:
    """The measured process: open the services, poll every feed, brief and search."""
    return asyncio.run(_run_bot(**arguments))


async def _run_bot(url: str, now: str, topics: list[str], searches: list[str]) -> dict:
    stages = [("Python started", current_rss_mib(), peak_rss_mib())]
    sys.path.insert(0, str(ROOT))
    from bot.app import open_services
    from bot.config import FetchSettings, Settings

    stages.append(("bot imported", current_rss_mib(), peak_rss_mib()))
    clock_now = datetime.fromisoformat(now)
    settings = Settings(
        data_dir=Path(url.removeprefix("sqlite:///")).parent,
        database_url=url,
        log_level="WARNING",
        fetch=FetchSettings(allow_networks=("127.0.0.0/8",)),
    )
    started = time.perf_counter()
    async with open_services(settings, clock=lambda: clock_now) as services:
        stages.append(("services open", current_rss_mib(), peak_rss_mib()))
        await asyncio.to_thread(services.stories.warm_up, clock_now)
        stages.append(("story clustering warmed", current_rss_mib(), peak_rss_mib()))
        results = await services.poller.poll_due()
        polled = sum(r.status == "not modified" for r in results)
        del results
        stages.append((f"poll cycle: {polled:,} feeds, 304s", current_rss_mib(), peak_rss_mib()))
        for topic in [None, *topics]:
            await services.briefings.brief(topic)
            await services.briefings.brief(topic)
        stages.append((f"{2 * (len(topics) + 1)} briefings", current_rss_mib(), peak_rss_mib()))
        for query in searches:
            await services.search.search(query)
        stages.append((f"{len(searches)} searches", current_rss_mib(), peak_rss_mib()))
        workers = _descendants_peak_rss_mib()
    return {"stages": stages, "workers": workers, "seconds": time.perf_counter() - started}


def _descendants_peak_rss_mib() -> float:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _support import descendants_peak_rss_mib

    return descendants_peak_rss_mib()


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(run_bot(json.loads(sys.argv[2]))))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _support import (
        FEEDS_IN_DB,
        FeedServerProcess,
        ServedFiles,
        article_database,
        machine_line,
        point_feeds,
        print_table,
        reset_database,
    )
    from poll import write_feeds
    from search import search_queries

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles in the store")
    parser.add_argument("--briefs", type=int, default=20, help="topics briefed")
    parser.add_argument("--searches", type=int, default=100)
    args = parser.parse_args()
    print(machine_line())
    database = article_database(args.size)
    reset_database(database)
    queries = search_queries(args.size, args.searches)
    searches = [query for kind in queries.values() for query in kind]
    topics = queries["mid-frequency word"][: args.briefs]
    with tempfile.TemporaryDirectory(prefix="newsbot-memory-") as folder:
        write_feeds(Path(folder), FEEDS_IN_DB)
        with FeedServerProcess(ServedFiles(Path(folder), 16)) as server:
            point_feeds(database, server)
            arguments = {
                "url": database.url,
                "now": database.now.isoformat(),
                "topics": topics,
                "searches": searches,
            }
            child = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(arguments)],
                capture_output=True,
                text=True,
                check=True,
            )
            bot = json.loads(child.stdout.strip().splitlines()[-1])
    rows = [(stage, f"{rss:.0f}", f"{peak:.0f}") for stage, rss, peak in bot["stages"]]
    size_mib = database.path.stat().st_size / 1024 / 1024
    print_table(
        f"Bot process memory: {FEEDS_IN_DB:,} feeds, {args.size:,} articles "
        f"({size_mib:,.0f} MiB store), {bot['seconds']:.0f} s from opening the services",
        ("after", "RSS MiB", "peak RSS MiB"),
        rows,
    )
    print(f"worker processes' peak RSS: {bot['workers']:.0f} MiB (none run for 304s)")


if __name__ == "__main__":
    main()
