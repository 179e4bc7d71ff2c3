"""Scaling out on PostgreSQL: one process against two, and /search at a million articles.

    python3 dev.py bench scale [--feeds 100] [--items 30] [--subscriptions 300]
                               [--articles 1000000] [--queries 240] [--database-url URL]

Ingest and delivery, for 1 and then 2 processes on a fresh database each time: a loopback
feed server in its own process serves FEEDS generated RSS feeds of ITEMS distinct ~2 KB
stories; each bot process (spawned, through the real ``open_services`` on PostgreSQL, with
its own parser workers) polls until no feed is due: the processes claim feeds a few at a time
(``FOR UPDATE SKIP LOCKED``), fetch, parse, match SUBSCRIPTIONS subscriptions, store and
enqueue. Then the same processes drain the outbox (claims, summaries of the stories shown,
rendering; the sink answers at once, so Discord's own latency is left out; flood caps are
lifted so every alert is sent). Story clustering is a one-process job on PostgreSQL: its rate
is shown apart (it places articles behind ingest, it does not slow it down).

/search: a database of ARTICLES generated articles (~2 KB each over 30 days, as
``bench/search.py`` builds on SQLite), built once by COPY and kept in a PostgreSQL data folder
under /tmp/newsbot-bench (the 1M database takes a while to build: the GIN index over all the
text), then ``SearchService.search`` for words of every frequency, pairs and phrases.

Without ``--database-url`` (a role that may create databases), a PostgreSQL from the pgserver
package runs for the benchmark and stops after it. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    RETENTION_DAYS,
    SOURCE_NAMES,
    FeedServerProcess,
    NewsText,
    ServedFiles,
    bench_postgres,
    machine_line,
    percentile,
    print_table,
    run_in_child,
)
from ingest import build_feeds, subscription_queries
from search import search_queries

HOSTS = 8
CLAIM_BATCH = 10
"""Feeds one process claims at a time: small, so the processes share the cycle."""


# --- PostgreSQL --------------------------------------------------------------------------


def _sqlalchemy_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str, *, fresh: bool) -> tuple[str, bool]:
    """The URL of database ``name`` (dropped and created again when ``fresh``); and whether
    it existed already."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_sqlalchemy_url(admin_url))
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        existed = bool(
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        )
        if fresh and existed:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        if fresh or not existed:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = admin.set(database=name).render_as_string(hide_password=False)
    return url, existed and not fresh


# --- ingest and delivery by N processes ---------------------------------------------------


class InstantSink:
    """A message sink that accepts every message at once (Discord's latency left out)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(
        self,
        recipient_type: str,
        recipient_id: int,
        content: str,
        embeds: Any,
        nonce: str,
        *,
        follow: str | None = None,
    ) -> str:
        self.sent += 1
        return f"{nonce}"

    async def edit(
        self, recipient_type: str, recipient_id: int, message_id: str, content: str, embeds: Any
    ) -> None:
        """Edits (a followed story's card) are accepted too."""


def _settings(url: str, folder: str) -> Any:
    from bot.config import FetchSettings, PollSettings, Settings

    return Settings(
        data_dir=Path(folder),
        database_url=url,
        log_level="WARNING",
        fetch=FetchSettings(allow_networks=("127.0.0.0/8",)),
        poll=PollSettings(batch_size=CLAIM_BATCH),
    )


def worker(url: str, number: int, start: Any, phase: str, results: Any) -> None:
    """One bot process: after ``start``, poll until nothing is due (``ingest``) or send
    until the outbox is empty (``deliver``); sends its counts to ``results``."""
    results.send(asyncio.run(_worker(url, number, start, phase, results)))


async def _worker(url: str, number: int, start: Any, phase: str, results: Any) -> dict[str, float]:
    from bot.app import open_services
    from bot.services.delivery import DeliveryService, FloodCaps

    with tempfile.TemporaryDirectory(prefix="newsbot-scale-") as folder:
        async with open_services(_settings(url, folder), owner=f"bench-{number}") as services:
            sink = InstantSink()
            delivery = DeliveryService(
                services.store,
                services.summaries,
                sink,
                services.clock,
                FloodCaps(per_user_per_hour=100_000, per_channel_per_hour=100_000),
                owner=f"bench-{number}",
            )
            results.send("ready")
            await asyncio.to_thread(start.wait)
            started, cpu = time.perf_counter(), time.process_time()
            done = 0
            if phase == "ingest":
                while results := await services.poller.poll_due():
                    done += sum(result.new_articles for result in results)
            else:
                while await delivery.deliver_due():
                    pass
                done = sink.sent
            return {
                "done": done,
                "wall": time.perf_counter() - started,
                "cpu": time.process_time() - cpu,
            }


def run_processes(url: str, count: int, phase: str) -> tuple[float, list[dict[str, float]]]:
    """Start ``count`` bot processes, let them go at once, and time until the last is done.
    (Not daemons: each bot starts parser workers of its own.)"""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes, receivers = [], []
    for number in range(count):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=worker, args=(url, number, start, phase, sender))
        process.start()
        sender.close()
        processes.append(process)
        receivers.append(receiver)
    try:
        for receiver in receivers:  # every process has opened its services and waits
            receiver.recv()
        began = time.perf_counter()
        start.set()
        results = [receiver.recv() for receiver in receivers]
    except EOFError:
        raise RuntimeError(f"a bot process of the {phase} phase failed") from None
    wall = time.perf_counter() - began
    for process in processes:
        process.join()
    return wall, results


def prepare_ingest(url: str, server: FeedServerProcess, feeds: int, queries: list[str]) -> None:
    """Feeds (marked initialised, so every item is new) and subscriptions."""
    from sqlalchemy import update

    from bot.storage.schema import feeds as feed_table
    from bot.storage.sql import SqlStore

    store = SqlStore.open(url)
    try:
        for number in range(feeds):
            guild = number % 2 * (1 + number % 20)
            store.add_feed(
                server.url(number, f"/feeds/{number}.xml"),
                None,
                guild_id=guild,
                channel_id=1000 + guild if guild else None,
            )
        with store._engine.begin() as connection:
            connection.execute(update(feed_table).values(initialized=True))
        now = datetime.now(UTC)
        for number, query in enumerate(queries):
            store.add_subscription(1 + number % 20, 100 + number % 400, query, "dm", None, now)
    finally:
        store.close()


def cluster_rate(url: str) -> tuple[int, float]:
    """Story clustering of everything ingested, in this one process: (articles, seconds)."""
    from bot.app import utc_now, warm_story_assigner
    from bot.services.clustering import StoryClustering
    from bot.storage.sql import SqlStore

    store = SqlStore.open(url)
    try:
        job = StoryClustering(store, utc_now, lambda: warm_story_assigner(store))
        started = time.perf_counter()
        placed = job.place_waiting()
        return placed, time.perf_counter() - started
    finally:
        store.close()


def scale_rows(admin: str, args: argparse.Namespace) -> tuple[list[tuple[str, ...]], str]:
    rows: list[tuple[str, ...]] = []
    rates: dict[tuple[str, int], float] = {}
    clustering = ""
    with tempfile.TemporaryDirectory(prefix="newsbot-feeds-") as folder:
        served = Path(folder)
        build_feeds(served, args.feeds, args.items, False)
        queries = subscription_queries(args.subscriptions)
        with FeedServerProcess(ServedFiles(served, HOSTS)) as server:
            for count in (1, 2):
                url, _ = database_url(admin, f"newsbot_scale_{count}", fresh=True)
                url = _sqlalchemy_url(url)
                prepare_ingest(url, server, args.feeds, queries)
                for phase, unit in (("ingest", "items"), ("deliver", "alerts")):
                    if phase == "deliver":  # deliveries wait for their article's story
                        placed, seconds = cluster_rate(url)
                        clustering = (
                            f"story clustering (one process, the lock holder): {placed:,} "
                            f"articles in {seconds:.2f} s = "
                            f"{placed / max(seconds, 1e-9):,.0f} articles/s"
                        )
                    wall, results = run_processes(url, count, phase)
                    done = sum(result["done"] for result in results)
                    rate = done / wall
                    rates[phase, count] = rate
                    rows.append((
                        phase, str(count), f"{done:,} {unit}", f"{wall:.2f}", f"{rate:,.0f}",
                        f"{rate / max(rates[phase, 1], 1e-9):.2f}x",
                        " / ".join(f"{r['cpu']:.1f}" for r in results),
                    ))  # fmt: skip
    return rows, clustering


# --- /search at a million articles --------------------------------------------------------

_COLUMNS = (
    "id", "url", "title", "source_name", "feed_id", "published_at", "first_seen_at", "language",
    "text", "story_id",
)  # fmt: skip


def build_search_database(url: str, size: int, log: Any = print) -> None:
    """``size`` generated articles (as bench/search.py's SQLite stores), loaded by COPY with
    the GIN index built once at the end."""
    import numpy as np
    import psycopg
    from sqlalchemy.engine import make_url

    from bot.core.urls import article_id
    from bot.storage.sql import SqlStore

    SqlStore.open(url).close()  # the schema, by the real migrations
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    text = NewsText(seed=size)
    rng = np.random.default_rng(size)
    now = datetime.now(UTC).replace(microsecond=0)
    span = RETENTION_DAYS * 86400
    started = time.perf_counter()
    log(f"generating {size:,} articles into PostgreSQL (kept for later runs) ...")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DROP INDEX IF EXISTS ix_articles_search")
        connection.execute(
            "INSERT INTO feeds (url, name, guild_id, initialized, created_at) "
            "SELECT 'http://feeds.invalid/' || n, 'Source ' || (n % 500), 0, true, now() "
            "FROM generate_series(1, 500) AS n"
        )
        chunk = 5000
        for first in range(0, size, chunk):
            count = min(chunk, size - first)
            buffer = io.StringIO()
            jitter = rng.uniform(0, 600, size=count)
            for index, (title, body) in enumerate(text.documents(first, count)):
                number = first + index
                link = f"https://news{number % SOURCE_NAMES}.example/{number}"
                key = article_id(link)
                age = span * (size - number) / size + float(jitter[index])
                published = (now - timedelta(seconds=age)).replace(tzinfo=None).isoformat()
                values = (key, link, title, f"Source {number % SOURCE_NAMES}",
                          str(number % 500 + 1), published, published, "en", body, key)  # fmt: skip
                buffer.write("\t".join(_copy_escape(value) for value in values) + "\n")
            with connection.cursor() as cursor:
                copy = f"COPY articles ({', '.join(_COLUMNS)}) FROM STDIN"
                with cursor.copy(copy) as writer:  # type: ignore[arg-type]
                    writer.write(buffer.getvalue())
            if (first // chunk) % 20 == 19:
                log(f"  {first + count:,} articles")
        log("  building the full-text index ...")
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("CREATE INDEX ix_articles_search ON articles USING GIN (search)")
        connection.execute("ANALYZE articles")
        connection.execute("CREATE TABLE IF NOT EXISTS bench_built (size bigint, now timestamptz)")
        connection.execute("INSERT INTO bench_built VALUES (%s, %s)", [size, now])
    log(f"generated in {time.perf_counter() - started:.0f} s")


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")


def time_searches(url: str, queries: dict[str, list[str]]) -> dict[str, tuple[list[float], float]]:
    """In this (fresh) process: each query's latency through ``SearchService.search``."""
    return asyncio.run(_time_searches(url, queries))


async def _time_searches(
    url: str, queries: dict[str, list[str]]
) -> dict[str, tuple[list[float], float]]:
    from bot.app import open_services

    timings: dict[str, tuple[list[float], float]] = {}
    with tempfile.TemporaryDirectory(prefix="newsbot-scale-") as folder:
        async with open_services(_settings(url, folder)) as services:
            await services.search.search("warm up")
            for kind, texts in queries.items():
                latencies, hits = [], 0
                for query in texts:
                    started = time.perf_counter()
                    found = await services.search.search(query)
                    latencies.append((time.perf_counter() - started) * 1000)
                    hits += len(found)
                timings[kind] = (latencies, hits / max(len(texts), 1))
    return timings


def search_rows(admin: str, size: int, count: int) -> list[tuple[str, ...]]:
    url, existed = database_url(admin, f"newsbot_search_{size}", fresh=False)
    url = _sqlalchemy_url(url)
    if existed:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo) as connection:
            try:
                built = connection.execute("SELECT size FROM bench_built").fetchone()
            except psycopg.Error:
                built = None
        if built is None:  # an interrupted build
            url, _ = database_url(admin, f"newsbot_search_{size}", fresh=True)
            url = _sqlalchemy_url(url)
            existed = False
    if not existed:
        build_search_database(url, size)
    timings = run_in_child(time_searches, url, search_queries(size, count))
    rows = []
    for kind, (latencies, hits) in timings.items():
        rows.append((
            f"/search {kind}", str(len(latencies)), f"{percentile(latencies, 0.5):.1f}",
            f"{percentile(latencies, 0.95):.1f}", f"{percentile(latencies, 0.99):.1f}",
            f"{max(latencies):.1f}", f"{hits:.1f}",
        ))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=30, help="items per feed")
    parser.add_argument("--subscriptions", type=int, default=300)
    parser.add_argument("--articles", type=int, default=1_000_000, help="for /search")
    parser.add_argument("--queries", type=int, default=240, help="/search calls in all")
    parser.add_argument("--database-url", help="a PostgreSQL role that may create databases")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    with bench_postgres(args.database_url, "postgres") as admin:
        import psycopg

        with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql")) as connection:
            version = connection.execute("SHOW server_version").fetchone()
        print(f"PostgreSQL {version[0] if version else '?'}")
        rows, clustering = scale_rows(admin, args)
        print_table(
            f"Ingest and delivery on PostgreSQL: {args.feeds} feeds x {args.items} ~2 KB items = "
            f"{args.feeds * args.items:,} items, {args.subscriptions} subscriptions; "
            "1 process, then 2 (each its own parser workers)",
            ("phase", "processes", "done", "wall s", "per s", "vs 1 process", "CPU s each"),
            rows,
        )
        print(clustering)
        if not args.skip_search:
            print_table(
                f"/search on PostgreSQL at {args.articles:,} articles: latency in ms",
                ("call", "n", "p50", "p95", "p99", "max", "hits"),
                search_rows(admin, args.articles, args.queries),
            )


if __name__ == "__main__":
    main()
