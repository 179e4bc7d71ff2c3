"""/search and /brief latency over large stores.

    python3 dev.py bench search [--sizes 100000] [--queries 200] [--briefs 30]
    python3 dev.py bench search --sizes 100000,1000000
    python3 dev.py bench search --postgres --sizes 1000000 --briefs 0
    python3 dev.py bench search --database-url postgresql+psycopg://user:pw@host/postgres

For each size, a store of that many generated articles (~2 KB each, spread over 30 days,
about a fifth of them joining an earlier article's story) is built directly in SQLite on first
use and cached under /tmp/newsbot-bench (the 1M store takes a few minutes to build once).
With ``--postgres`` (a PostgreSQL from the pgserver package, its data folder kept under the
cache) or ``--database-url`` (a role that may create databases), the same articles go into a
PostgreSQL database instead, loaded by COPY with the full-text index built once at the end
(the 1M one takes a while; it is kept for later runs). In a fresh process the bot opens its
services on it (``open_services``, the clock fixed at the store's "now") and times, one
call after another:

* ``SearchService.search`` for words of every frequency (the most common content words down
  to names that occur a handful of times), two-word queries and phrases; common and
  mid-frequency words and phrases again within the last 24 hours;
* ``BriefingService.brief`` without a topic (the day's top stories) and with one: the first
  call summarises the stories shown (summaries are lazy) and the next one finds them cached.
  First calls without a topic are repeated by clearing the shown articles' summaries between
  calls (outside the timing).

Prints p50/p95/p99 in milliseconds per kind of call; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    COMMON_WORDS,
    ArticleDatabase,
    NewsText,
    article_database,
    bench_postgres,
    execute_in,
    machine_line,
    peak_rss_mib,
    percentile,
    postgres_article_database,
    print_table,
    reset_database,
    run_in_child,
)

WINDOWED_KINDS = ("common word", "mid-frequency word", "phrase")
"""Kinds of query also timed with an hours window (``/search ... hours:24``)."""


def search_queries(size: int, count: int) -> dict[str, list[str]]:
    """Queries per kind, drawn from the vocabulary the store was generated with."""
    words = [str(word) for word in NewsText(seed=size).words]
    first = len(COMMON_WORDS)
    per_kind = max(1, count // 6)

    def pick(start: int, stop: int, step: int) -> list[str]:
        return [words[first + start + n * step] for n in range(per_kind)]

    common, middle, rare = pick(0, 200, 1), pick(1000, 5000, 17), pick(15000, 39000, 101)
    return {
        "common word": common,
        "mid-frequency word": middle,
        "rare word": rare,
        "name": [word.capitalize() for word in pick(8000, 30000, 97)],
        "two words": [f"{a} {b}" for a, b in zip(middle, pick(500, 3000, 11), strict=True)],
        "phrase": [f'"{a} {b}"' for a, b in zip(common, pick(20, 300, 3), strict=True)],
    }


def run_bot(database: ArticleDatabase, queries: dict[str, list[str]], briefs: int) -> dict:
    """In a fresh process: open the services on the store and time the calls."""
    return asyncio.run(_run_bot(database, queries, briefs))


async def _run_bot(database: ArticleDatabase, queries: dict[str, list[str]], briefs: int) -> dict:
    from bot.app import open_services
    from bot.config import Settings

    settings = Settings(
        data_dir=database.path.parent, database_url=database.url, log_level="WARNING"
    )
    timings: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}

    async def timed(kind: str, call: object) -> object:
        started = time.perf_counter()
        result = await call  # type: ignore[misc]
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        return result

    opened = time.perf_counter()
    async with open_services(settings, clock=lambda: database.now) as services:
        open_seconds = time.perf_counter() - opened
        for kind, texts in queries.items():
            for text in texts:
                found = await timed(f"/search {kind}", services.search.search(text))
                hits.setdefault(kind, []).append(len(found))  # type: ignore[arg-type]
        for kind in WINDOWED_KINDS:
            for text in queries[kind]:
                windowed = f"{kind}, last 24 h"
                found = await timed(f"/search {windowed}", services.search.search(text, hours=24))
                hits.setdefault(windowed, []).append(len(found))  # type: ignore[arg-type]
        topics = queries["mid-frequency word"][:briefs]
        for _ in range(briefs):
            briefing = await timed("/brief, first call", services.briefings.brief())
            await timed("/brief, cached", services.briefings.brief())
            _forget_summaries(database, briefing)
        for topic in topics:
            await timed("/brief topic, first call", services.briefings.brief(topic))
        for topic in topics:
            await timed("/brief topic, cached", services.briefings.brief(topic))
    return {"timings": timings, "hits": hits, "open": open_seconds, "rss": peak_rss_mib()}


def _forget_summaries(database: ArticleDatabase, briefing: object) -> None:
    ids = [a.id for story in briefing.stories for a in story.articles]  # type: ignore[attr-defined]
    execute_in(
        database,
        "UPDATE articles SET summary = NULL, sentence_count = NULL WHERE id = :id",
        rows=[{"id": key} for key in ids],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated article counts")
    parser.add_argument("--queries", type=int, default=240, help="search queries per size")
    parser.add_argument("--briefs", type=int, default=30, help="briefings of each kind")
    parser.add_argument(
        "--postgres", action="store_true", help="on a PostgreSQL the pgserver package starts"
    )
    parser.add_argument(
        "--database-url", help="on PostgreSQL: the URL of a role that may create databases"
    )
    args = parser.parse_args()
    print(machine_line())
    on_postgres = args.postgres or bool(args.database_url)
    with bench_postgres(args.database_url) if on_postgres else nullcontext("") as admin_url:
        for size in (int(part) for part in args.sizes.split(",")):
            measure(size, args, admin_url)


def measure(size: int, args: argparse.Namespace, admin_url: str) -> None:
    """Build (or reuse) the store of ``size`` articles, time the calls, print the table."""
    build = postgres_article_database if admin_url else None
    database = build(admin_url, size) if build else article_database(size)
    reset_database(database)
    queries = search_queries(size, args.queries)
    bot = run_in_child(run_bot, database, queries, args.briefs)
    rows = []
    for kind, values in bot["timings"].items():
        found = bot["hits"].get(kind.removeprefix("/search "))
        rows.append(
            (
                kind,
                len(values),
                f"{percentile(values, 0.5):.1f}",
                f"{percentile(values, 0.95):.1f}",
                f"{percentile(values, 0.99):.1f}",
                f"{max(values):.1f}",
                f"{sum(found) / len(found):.1f}" if found else "",
            )
        )
    engine = "PostgreSQL" if admin_url else "SQLite"
    print_table(
        f"{size:,} articles ({database.size_mib():,.0f} MiB {engine} store): latency in ms "
        f"(services opened in {bot['open']:.1f} s, peak RSS {bot['rss']:.0f} MiB)",
        ("call", "n", "p50", "p95", "p99", "max", "hits"),
        rows,
    )


if __name__ == "__main__":
    main()
