"""End-to-end ingest speed and memory, against feedparser's floor on the same bytes.

    python3 dev.py bench ingest [--feeds 200] [--items 50] [--subscriptions 1000] [--pages]
                                [--parse-processes N] [--profile N] [--cli]

A loopback aiohttp server in its own process serves FEEDS generated RSS feeds of ITEMS distinct
~2 KB stories (with ``--pages``: ~300-character teasers whose article pages the bot fetches and
extracts, ``extract_full_text``). The bot runs in a fresh process through the real
``open_services(...)``: one poll cycle (``Poller.poll_due`` -> ``Refresher.refresh_feed`` for
every feed: fetch, parse, dedupe, cluster into stories, match SUBSCRIPTIONS topic
subscriptions and plan channel posts, store with full-text indexing; summaries stay lazy).
Feeds are marked initialised first, so every item is new and alert matching runs for all of
them. CPU is reported per process (the bot's own, and the rest: its parser workers) and per
item, since wall time on a shared machine is noisy (the load average is printed with the
machine). Then the floor: feedparser alone on the same bytes, on one core, as a user would
call it (its defaults: the floor the end-to-end rate is compared with) and with our options
(``sanitize_html=False``, ``resolve_relative_uris=False``); our ``parse_feed`` (strict lxml
path, and feedparser only), and the ``TokenizingFeedParser`` the workers run (parse, plus
the stems and cluster readings). With ``--cli``, also one ``newsbot fetch`` of the same feeds
as a new user would run it: a fresh process, start-up included, wall clock from its start to
its exit. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    FeedServerProcess,
    NewsText,
    ServedFiles,
    article_page,
    cpu_seconds,
    descendants_peak_rss_mib,
    machine_line,
    peak_rss_mib,
    print_table,
    rss_document,
    run_in_child,
    text_to_html,
)

HOSTS = 8
TEASER_CHARS = 300


def build_feeds(folder: Path, feeds: int, items: int, pages: bool) -> list[bytes]:
    """Write the feed (and page) files the server serves; return the feed bodies."""
    text = NewsText(seed=11)
    now = datetime.now(UTC).replace(microsecond=0)
    bodies = []
    (folder / "feeds").mkdir(parents=True)
    for feed in range(feeds):
        documents = text.documents(feed * items, items)
        entries = []
        for number, (title, body) in enumerate(documents):
            link = f"{{base}}/pages/{feed}/{number}.html"
            published = now - timedelta(minutes=number * 7 + feed % 60)
            if pages:
                page = folder / "pages" / str(feed) / f"{number}.html"
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_bytes(article_page(title, body))
                teaser = body[:TEASER_CHARS].rsplit(" ", 1)[0] + " …"
                entries.append((title, link, f"<p>{teaser}</p>", published))
            else:
                entries.append((title, link, text_to_html(body), published))
        body = rss_document(f"Generated source {feed}", "{base}/", entries)
        (folder / "feeds" / f"{feed}.xml").write_bytes(body)
        bodies.append(body)
    return bodies


def subscription_queries(count: int) -> list[str]:
    """Topic queries over the generated vocabulary: words, pairs, phrases, OR and NOT."""
    text = NewsText(seed=11)
    words = [str(word) for word in text.words[300:6000]]
    queries = []
    for number in range(count):
        first, second, third = (words[(number * k * 37 + k) % len(words)] for k in (1, 3, 7))
        shape = number % 5
        if shape == 0:
            queries.append(first)
        elif shape == 1:
            queries.append(f"{first} {second}")
        elif shape == 2:
            queries.append(f'"{first} {second}"')
        elif shape == 3:
            queries.append(f"{first} OR {second}")
        else:
            queries.append(f"{first} NOT {third}")
    return queries


def floor(bodies: list[bytes]) -> list[tuple[str, float, int]]:
    """(parser, CPU seconds, items) for feedparser alone and for our parsers."""
    import feedparser

    from bot.pipeline.parse import TokenizingFeedParser, parse_feed

    reader = TokenizingFeedParser()
    parsers = [
        ("feedparser (defaults): the floor", feedparser.parse),
        (
            "feedparser (sanitize_html=False)",
            partial(feedparser.parse, sanitize_html=False, resolve_relative_uris=False),
        ),
        ("parse_feed (strict lxml path)", partial(parse_feed, url="http://127.0.0.1/")),
        (
            "parse_feed (feedparser only)",
            partial(parse_feed, url="http://127.0.0.1/", strict_path=False),
        ),
        ("TokenizingFeedParser (+ stems, readings)", partial(reader, url="http://127.0.0.1/")),
    ]
    rows = []
    for name, parse in parsers:
        started = time.process_time()
        items = sum(len(parse(body).entries) for body in bodies)
        rows.append((name, time.process_time() - started, items))
    return rows


def run_cli(endpoints: list[str], feeds: int) -> dict:
    """One ``newsbot fetch`` of every feed in a fresh process, as a new user runs it: wall
    clock from start to exit, CPU of the process and its workers, and its output lines."""
    urls = [f"{endpoints[number % len(endpoints)]}/feeds/{number}.xml" for number in range(feeds)]
    with tempfile.TemporaryDirectory(prefix="newsbot-cli-") as folder:
        config = Path(folder) / "newsbot.toml"
        config.write_text(
            'data_dir = "."\nlog_level = "WARNING"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
            + "".join(f'[[sources]]\nurl = "{url}"\n' for url in urls)
        )
        environment = {**os.environ, "NEWSBOT_CONFIG": str(config)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        finished = subprocess.run(
            [sys.executable, "-m", "bot", "fetch"],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with sqlite3.connect(Path(folder) / "newsbot.db") as connection:
            (stored,) = connection.execute("SELECT count(*) FROM articles").fetchone()
    lines = finished.stdout.splitlines()
    return {
        "wall": wall,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "stored": stored,
        "errors": sum(": error: " in line for line in lines),
        "exit": finished.returncode,
    }


def run_bot(
    endpoints: list[str],
    feeds: int,
    pages: bool,
    queries: list[str],
    processes: int | None,
    profile: int = 0,
) -> dict:
    """In a fresh process: open the services, add feeds and subscriptions, poll once. With
    ``profile``, the poll cycle's top functions by CPU time in the bot process."""
    return asyncio.run(_run_bot(endpoints, feeds, pages, queries, processes, profile))


class _ThreadProfiles:
    """cProfile in every thread of the default executor (where the ingest work runs), timed
    by each thread's own CPU clock, so waiting for the GIL or a lock does not count."""

    def __init__(self) -> None:
        import concurrent.futures.thread as executor_threads
        import cProfile
        import threading

        self._profiles: dict[int, cProfile.Profile] = {}
        self._module = executor_threads
        self._original = original = executor_threads._WorkItem.run
        profiles, new_profile, thread_id = self._profiles, cProfile.Profile, threading.get_ident

        def run(item: object) -> None:
            profile = profiles.setdefault(thread_id(), new_profile(time.thread_time))
            profile.enable()
            try:
                original(item)
            finally:
                profile.disable()

        self._run = run

    def __enter__(self) -> _ThreadProfiles:
        self._module._WorkItem.run = self._run
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._module._WorkItem.run = self._original

    def top(self, count: int) -> str:
        import io
        import pstats

        if not self._profiles:
            return ""
        out = io.StringIO()
        stats = pstats.Stats(*self._profiles.values(), stream=out)
        stats.sort_stats("tottime").print_stats(count)
        return out.getvalue()


async def _run_bot(
    endpoints: list[str],
    feeds: int,
    pages: bool,
    queries: list[str],
    processes: int | None,
    profile: int = 0,
) -> dict:
    from bot.app import open_services
    from bot.config import FetchSettings, ParseSettings, Settings

    with tempfile.TemporaryDirectory(prefix="newsbot-ingest-") as folder:
        parse = ParseSettings() if processes is None else ParseSettings(workers=processes)
        settings = Settings(
            data_dir=Path(folder),
            log_level="WARNING",
            fetch=FetchSettings(allow_networks=("127.0.0.0/8",)),
            parse=parse,
        )
        async with open_services(settings) as services:
            store = services.store
            for number in range(feeds):
                url = f"{endpoints[number % len(endpoints)]}/feeds/{number}.xml"
                guild = number % 2 * (1 + number % 20)
                store.add_feed(
                    url,
                    None,
                    guild_id=guild,
                    channel_id=1000 + guild if guild else None,
                    extract_full_text=pages,
                )
            with sqlite3.connect(Path(folder) / "newsbot.db") as connection:
                connection.execute("UPDATE feeds SET initialized = 1")
            for number, query in enumerate(queries):
                await services.subscriptions.subscribe(
                    1 + number % 20, 100 + number % 400, query, "dm", 1
                )
            rss_before, cpu_before = peak_rss_mib(), cpu_seconds()
            own_before = time.process_time()
            started = time.perf_counter()
            if profile:
                with _ThreadProfiles() as profiles:
                    results = await services.poller.poll_due()
            else:
                results = await services.poller.poll_due()
            wall = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
            own_cpu = time.process_time() - own_before
            workers_rss = descendants_peak_rss_mib()
            statuses = sorted({r.status for r in results})
            errors = [r.error for r in results if r.status == "error"][:3]
            stats = store.stats()
            deliveries = store.delivery_statuses()
    return {
        "wall": wall,
        "cpu": cpu,
        "own_cpu": own_cpu,
        "new": sum(r.new_articles for r in results),
        "stored": stats.articles,
        "statuses": statuses,
        "errors": errors,
        "deliveries": sum(deliveries.values()),
        "rss_before": rss_before,
        "rss": peak_rss_mib(),
        "workers_rss": workers_rss,
        "profile": profiles.top(profile) if profile else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--pages", action="store_true", help="teaser items + pages to extract")
    parser.add_argument(
        "--parse-processes", type=int, help="parse.workers (default: the config default)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="print the bot process's N costliest functions (slows the run down)",
    )
    parser.add_argument(
        "--cli", action="store_true", help="also time one `newsbot fetch` of the same feeds"
    )
    args = parser.parse_args()
    if args.pages and args.items > 30:
        parser.error("--pages: at most 30 items per feed (pages fetched per refresh)")
    print(machine_line())
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="newsbot-feeds-") as folder:
        served = Path(folder)
        templates = build_feeds(served, args.feeds, args.items, args.pages)
        with FeedServerProcess(ServedFiles(served, HOSTS)) as server:
            bodies = [
                body.replace(b"{base}", server.url(number, "").encode())
                for number, body in enumerate(templates)
            ]
            queries = subscription_queries(args.subscriptions)
            bot = run_in_child(
                run_bot,
                server.endpoints,
                args.feeds,
                args.pages,
                queries,
                args.parse_processes,
                args.profile,
            )
            cli = run_cli(server.endpoints, args.feeds) if args.cli else None
        server_cpu = server.cpu_seconds
    floors = floor(bodies)
    total = args.feeds * args.items
    kind = "teasers + article pages" if args.pages else "~2 KB items"
    if bot["statuses"] != ["new"]:
        print(f"warning: statuses {bot['statuses']} errors {bot['errors']}")
    rate = bot["new"] / bot["wall"]
    print_table(
        f"End-to-end ingest: {args.feeds} feeds x {args.items} {kind} = {total:,} items, "
        f"{args.subscriptions} subscriptions, one poll cycle (open_services, Poller.poll_due)",
        ("new items", "stored", "deliveries", "wall s", "items/s", "CPU s", "of it bot process",
         "bot ms/item", "workers ms/item", "peak RSS MiB", "parser's peak RSS MiB",
         "server CPU s"),
        [(
            f"{bot['new']:,}",
            f"{bot['stored']:,}",
            f"{bot['deliveries']:,}",
            f"{bot['wall']:.2f}",
            f"{rate:,.0f}",
            f"{bot['cpu']:.2f}",
            f"{bot['own_cpu']:.2f}",
            f"{bot['own_cpu'] * 1000 / max(bot['new'], 1):.2f}",
            f"{(bot['cpu'] - bot['own_cpu']) * 1000 / max(bot['new'], 1):.2f}",
            f"{bot['rss']:.0f}",
            f"{bot['workers_rss']:.0f}",
            f"{server_cpu:.2f}",
        )],
    )  # fmt: skip
    floor_rows = []
    for name, seconds, items in floors:
        floor_rows.append((name, f"{items:,}", f"{seconds:.2f}", f"{items / seconds:,.0f}",
                           f"{seconds * 1000 / max(items, 1):.3f}",
                           f"{rate / (items / seconds):.2f}"))  # fmt: skip
    floor_name, floor_seconds, floor_items = floors[0]
    floor_rate = floor_items / floor_seconds
    if bot["profile"]:
        print("\nBot process, poll cycle, by own CPU time (executor threads; cProfile slows it)")
        print(bot["profile"])
    print_table(
        "Floor: parsing the same bytes alone, one core (CPU time)",
        ("parser", "items", "CPU s", "items/s", "CPU ms/item", "end-to-end / this"),
        floor_rows,
    )
    # On a busy machine wall time says more about the neighbours than about us: what the CPU
    # time allows on two idle cores (the bot's process on one, at most) is shown beside it.
    bound = bot["new"] / max(bot["cpu"] / 2, bot["own_cpu"])
    summary = [("poll cycle (Poller.poll_due)", f"{bot['new']:,}", f"{bot['wall']:.2f}",
                f"{rate:,.0f}", f"{rate / floor_rate:.2f}",
                f"{bot['cpu'] * 1000 / max(bot['new'], 1):.2f}", f"{bound:,.0f}",
                f"{bound / floor_rate:.2f}", f"{bot['rss']:.0f}")]  # fmt: skip
    if cli is not None:
        cli_rate = cli["stored"] / cli["wall"]
        cli_bound = cli["stored"] / (cli["cpu"] / 2)
        summary.append(("one-shot `newsbot fetch`, start-up included", f"{cli['stored']:,}",
                        f"{cli['wall']:.2f}", f"{cli_rate:,.0f}", f"{cli_rate / floor_rate:.2f}",
                        f"{cli['cpu'] * 1000 / max(cli['stored'], 1):.2f}", f"{cli_bound:,.0f}",
                        f"{cli_bound / floor_rate:.2f}", "-"))  # fmt: skip
        if cli["exit"] or cli["errors"]:
            print(f"warning: newsbot fetch exit {cli['exit']}, {cli['errors']} feeds failed")
    print_table(
        f"End to end against the floor ({floor_name}, {floor_rate:,.0f} items/s on one core)",
        ("run", "items stored", "wall s", "items/s", "ratio to floor",
         "CPU ms/item (all processes)", "CPU-bound items/s (2 idle cores)", "its ratio",
         "bot's peak RSS MiB"),
        summary,
    )  # fmt: skip


if __name__ == "__main__":
    main()
