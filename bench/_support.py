"""Shared helpers of the scale benchmarks (ingest, poll, search, memory): the machine line,
tables, generated news text, a loopback feed server in its own process, and cached article
databases. Not a benchmark itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import os
import platform
import resource
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024

# --- the machine and the tables --------------------------------------------------------------


def machine_line() -> str:
    """CPU model, cores, RAM, Python and SQLite versions, on one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"machine: {model}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A right-aligned text table under a title."""
    cells = [tuple(header), *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(header))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    sys.stdout.flush()


def peak_rss_mib() -> float:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process (all threads), its waited-for children, and every live
    descendant (worker processes, with what they waited for)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    live = sum(_proc_cpu(pid) for pid in descendants())
    return time.process_time() + children.ru_utime + children.ru_stime + live


def descendants(root: int | None = None) -> list[int]:
    """Process ids of every live descendant of ``root`` (default: this process)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root or os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _proc_cpu(pid: int) -> float:
    """utime + stime (+ reaped children's) of a process, in seconds; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def descendants_peak_rss_mib() -> float:
    """The largest peak RSS (VmHWM) among live descendants."""
    peak = 0.0
    for pid in descendants():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile (0..1) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- generated news text ---------------------------------------------------------------------

_COMMON_TEXT = """
    the of and to a in for is on that by with said was as at it from he be has have his are
    an its not but will were after had they this who been their which more also about year
    two people one new up than over would first when we last out into government there could
    all years police time she before three president told her other minister week since some
    state no made percent officials can may if while country city under during between former
    report back only most against because per million our
"""
COMMON_WORDS = tuple(_COMMON_TEXT.split())
_ONSETS = ("", "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n",
           "p", "pr", "r", "s", "sh", "st", "t", "tr", "v", "w", "z")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
_CODAS = ("", "", "n", "r", "s", "t", "l", "m", "nd", "rk", "st")
VOCABULARY_SIZE = 40_000
BODY_WORDS = 300
"""About 2 KB of text per article."""


class NewsText:
    """Made-up news in bulk: a Zipf vocabulary led by common English words, invented names,
    sentences and paragraphs. Deterministic for a seed; every document is a distinct event
    (its own names and word draws), so clustering leaves them apart."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        rng = np.random.default_rng(seed)
        words: list[str] = list(COMMON_WORDS)
        seen = set(words)
        while len(words) < VOCABULARY_SIZE:
            syllables = rng.choice([1, 2, 2, 2, 3, 3])
            word = "".join(
                _ONSETS[rng.integers(len(_ONSETS))]
                + _VOWELS[rng.integers(len(_VOWELS))]
                + _CODAS[rng.integers(len(_CODAS))]
                for _ in range(syllables)
            )
            if len(word) > 1 and word not in seen:
                seen.add(word)
                words.append(word)
        self.words = np.array(words, dtype=object)
        self.capitalised = np.array([w.capitalize() for w in words], dtype=object)
        self.ending = np.array([w + "." for w in words], dtype=object)
        self.paragraph_ending = np.array([w + ".\n\n" for w in words], dtype=object)
        self.names = self.capitalised[len(COMMON_WORDS) :]
        ranks = np.arange(1, VOCABULARY_SIZE + 1, dtype=np.float64)
        weights = 1.0 / ranks**1.05
        self.body_p = weights / weights.sum()
        tail = weights[len(COMMON_WORDS) :]
        self.title_p = tail / tail.sum()

    def documents(self, start: int, count: int) -> list[tuple[str, str]]:
        """(title, text) of documents ``start`` .. ``start + count - 1``; text paragraphs are
        separated by blank lines."""
        rng = np.random.default_rng([self.seed, start, count])
        draws = rng.choice(VOCABULARY_SIZE, size=(count, BODY_WORDS), p=self.body_p)
        body = self.words[draws]
        starts, ends, paragraph_ends = _sentence_layout(rng)
        body[:, starts] = self.capitalised[draws[:, starts]]
        body[:, ends] = self.ending[draws[:, ends]]
        body[:, paragraph_ends] = self.paragraph_ending[draws[:, paragraph_ends]]
        names = self.names[rng.integers(0, len(self.names), size=(count, 4))]
        name_slots = [s + 1 for s in starts[1:7] if s + 1 not in ends][:3]
        for column, slot in enumerate(name_slots, start=1):
            body[:, slot] = names[:, column]
        body[:, 0] = names[:, 0]
        title_draws = rng.choice(
            VOCABULARY_SIZE - len(COMMON_WORDS), size=(count, 6), p=self.title_p
        )
        titles = self.words[title_draws + len(COMMON_WORDS)]
        result = []
        for row in range(count):
            words = titles[row].tolist()
            title = f"{names[row, 0]} {' '.join(words[:3])} {names[row, 1]} {' '.join(words[3:])}"
            text = " ".join(body[row].tolist()).replace("\n\n ", "\n\n").strip()
            result.append((title, text))
        return result


def _sentence_layout(rng: np.random.Generator) -> tuple[list[int], list[int], list[int]]:
    """Sentence starts, plain ends and paragraph-closing ends for one chunk of documents."""
    starts, ends, paragraph_ends = [0], [], []
    position, sentences = 0, 0
    while True:
        length = int(rng.integers(12, 29))
        end = position + length - 1
        if end >= BODY_WORDS - 1:
            paragraph_ends.append(BODY_WORDS - 1)
            break
        sentences += 1
        (paragraph_ends if sentences % 4 == 0 else ends).append(end)
        position = end + 1
        starts.append(position)
    return starts, ends, paragraph_ends


def text_to_html(text: str) -> str:
    """Paragraphs as ``<p>`` elements."""
    return "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n"))


def rss_document(title: str, link: str, items: Sequence[tuple[str, str, str, datetime]]) -> bytes:
    """RSS 2.0 with (title, link, description HTML, published) items."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link>",
        "<description>generated for newsbot benchmarks</description><language>en</language>",
    ]
    for item_title, item_link, description, published in items:
        parts.append(
            f"<item><title>{escape(item_title)}</title><link>{escape(item_link)}</link>"
            f'<guid isPermaLink="true">{escape(item_link)}</guid>'
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>{escape(description)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def article_page(title: str, text: str) -> bytes:
    """An article page with the furniture pages have: navigation, related links, footer."""
    navigation = "".join(f'<li><a href="/section/{n}">Section {n}</a></li>' for n in range(12))
    related = "".join(f'<li><a href="/related/{n}">Related story {n}</a></li>' for n in range(6))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} | Example News</title></head><body>"
        f"<header><nav><ul>{navigation}</ul></nav></header>"
        f"<main><article><h1>{escape(title)}</h1><p class='byline'>By Staff Reporter</p>"
        f"{text_to_html(text)}</article>"
        f"<aside><h2>Related</h2><ul>{related}</ul></aside></main>"
        "<footer><p>Copyright Example News. All rights reserved.</p>"
        "<p><a href='/privacy'>Privacy</a> <a href='/terms'>Terms</a></p></footer>"
        "</body></html>"
    ).encode()


# --- the loopback feed server ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServedFiles:
    """What the server answers: files in ``folder`` named by path, each with an ETag."""

    folder: Path
    hosts: int
    """How many loopback addresses (127.0.0.1, 127.0.0.2, ...) serve the same files."""


def _serve(files: ServedFiles, ready: Any, stop: Any) -> None:  # runs in the server process
    from aiohttp import web

    bodies: dict[str, bytes] = {}
    for path in files.folder.rglob("*"):
        if path.is_file():
            bodies["/" + path.relative_to(files.folder).as_posix()] = path.read_bytes()
    etags = {path: f'"{hashlib.sha1(body).hexdigest()[:16]}"' for path, body in bodies.items()}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        body = bodies.get(path)
        if body is None:
            return web.Response(status=404)
        etag = etags[path]
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        kind = "text/html; charset=utf-8" if path.endswith(".html") else "application/rss+xml"
        body = body.replace(b"{base}", f"http://{request.host}".encode())
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": kind})

    async def main() -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        endpoints = []
        for number in range(files.hosts):
            host = f"127.0.0.{number + 1}"
            site = web.TCPSite(runner, host, 0, backlog=1024)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            endpoints.append(f"http://{host}:{port}")
        ready.send((endpoints, etags))
        await asyncio.get_running_loop().run_in_executor(None, stop.recv)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        ready.send(usage.ru_utime + usage.ru_stime)
        await runner.cleanup()

    asyncio.run(main())


class FeedServerProcess:
    """An aiohttp server in its own process (it never competes for the bot's event loop),
    answering ``GET /<file>`` with ETags and 304s, on ``hosts`` loopback addresses; ``{base}``
    in a file becomes the scheme and host it was requested from."""

    def __init__(self, files: ServedFiles) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, child_ready = context.Pipe()
        self._stop, child_stop = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(files, child_ready, child_stop), daemon=True
        )
        self.endpoints: list[str] = []
        self.etags: dict[str, str] = {}
        self.cpu_seconds = 0.0

    def __enter__(self) -> FeedServerProcess:
        self._process.start()
        self.endpoints, self.etags = self._ready.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.send(None)
        if self._ready.poll(10):
            self.cpu_seconds = self._ready.recv()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()

    def url(self, number: int, path: str) -> str:
        """``path`` on the ``number``-th host, round robin."""
        return self.endpoints[number % len(self.endpoints)] + path


def _child(function: Any, args: tuple[Any, ...], results: Any) -> None:
    results.send(function(*args))


def run_in_child(function: Any, *args: Any) -> Any:
    """Run ``function(*args)`` in a fresh spawned process and return its result, so the
    measured process's peak RSS holds only what it did (not the data generation). The child
    is not a daemon: the bot in it may start worker processes of its own."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, args, sender))
    process.start()
    sender.close()
    try:
        return receiver.recv()
    except EOFError:
        raise RuntimeError(f"the benchmark process failed (exit code {process.exitcode})") from None
    finally:
        process.join()


# --- cached article databases ----------------------------------------------------------------

CACHE = Path(os.environ.get("NEWSBOT_BENCH_CACHE", "/tmp/newsbot-bench"))
FEEDS_IN_DB = 10_000
RETENTION_DAYS = 30
SOURCE_NAMES = 500
STORY_SHARE = 0.2
"""About this share of articles join an earlier article's story (a few sources per event)."""


@dataclass(frozen=True, slots=True)
class ArticleDatabase:
    """A generated store: ``size`` articles over ``RETENTION_DAYS`` days before ``now`` and
    ``FEEDS_IN_DB`` feeds whose validators make the feed server answer 304."""

    path: Path
    size: int
    now: datetime
    postgres_url: str = ""
    """The store's SQLAlchemy URL when it is a PostgreSQL database (``path`` is then only a
    folder for the bot's other files)."""

    @property
    def url(self) -> str:
        return self.postgres_url or f"sqlite:///{self.path}"

    def size_mib(self) -> float:
        """The store's size on disk."""
        if not self.postgres_url:
            return self.path.stat().st_size / MIB
        from sqlalchemy import create_engine

        engine = create_engine(self.postgres_url)
        with engine.connect() as connection:
            size = connection.exec_driver_sql("SELECT pg_database_size(current_database())")
            value = int(size.scalar_one())
        engine.dispose()
        return value / MIB


def article_database(size: int, *, log: Any = print) -> ArticleDatabase:
    """The cached database of ``size`` articles, generated on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"articles-{size}-{_schema_revision()}.db"
    stamp = path.with_suffix(".now")
    if path.exists() and stamp.exists():
        now = datetime.fromisoformat(stamp.read_text().strip())
        return ArticleDatabase(path, size, now)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), stamp):
        stale.unlink(missing_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    log(f"generating {size:,} articles into {path} (cached for later runs) ...")
    _generate(path, size, now, log)
    stamp.write_text(now.isoformat())
    log(f"generated in {time.perf_counter() - started:.0f} s, {path.stat().st_size / MIB:,.0f} MiB")
    return ArticleDatabase(path, size, now)


def _schema_revision() -> str:
    """The newest migration's name: a cached store is only reused at the same schema."""
    from bot.storage import migrations

    versions = Path(migrations.__file__).parent / "versions"
    return max(p.stem for p in versions.glob("[0-9]*.py")).split("_", 1)[0]


def feed_path(number: int) -> str:
    return f"/feeds/{number}.xml"


def _generate(path: Path, size: int, now: datetime, log: Any) -> None:
    from sqlalchemy import create_engine, event

    from bot.storage.schema import articles, feeds
    from bot.storage.sql import SqlStore

    SqlStore.open(f"sqlite:///{path}").close()  # the schema, by the real migrations
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _fast(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-200000")

    created = now - timedelta(days=RETENTION_DAYS + 1)
    with engine.begin() as connection:
        connection.execute(
            feeds.insert(),
            [
                {
                    "url": f"http://feeds.invalid/{number}",
                    "name": f"Source {number % SOURCE_NAMES}",
                    "guild_id": number % 50,
                    "channel_id": 1000 + number % 50,
                    "initialized": True,
                    "created_at": created,
                }
                for number in range(FEEDS_IN_DB)
            ],
        )
    for start, values in _article_rows(size, now):
        rows = [dict(zip(_COPY_COLUMNS, row, strict=True)) for row in values]
        for row in rows:
            for key in ("published_at", "first_seen_at"):
                row[key] = datetime.fromisoformat(row[key]).replace(tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(articles.insert(), rows)
            connection.exec_driver_sql(
                "INSERT INTO article_feeds (article_id, feed_id, first_seen_at) "
                "SELECT id, feed_id, first_seen_at FROM articles WHERE pk > ?",
                (start,),
            )
        if (start // _CHUNK_ROWS) % 20 == 19:
            log(f"  {start + len(rows):,} articles")
    engine.dispose()


_CHUNK_ROWS = 5000


def _article_rows(size: int, now: datetime) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """The generated articles, a chunk at a time: (number of the first, rows of values in
    ``_COPY_COLUMNS`` order, times as naive UTC ISO text)."""
    from bot.core.urls import article_id

    text = NewsText(seed=size)
    rng = np.random.default_rng(size)
    span = RETENTION_DAYS * 86400
    recent_stories: list[str] = []
    for start in range(0, size, _CHUNK_ROWS):
        count = min(_CHUNK_ROWS, size - start)
        documents = text.documents(start, count)
        jitter = rng.uniform(0, 600, size=count)
        joins = rng.random(count) < STORY_SHARE
        picks = rng.integers(0, 200, size=count)
        rows = []
        for index, (title, body) in enumerate(documents):
            number = start + index
            url = f"https://news{number % SOURCE_NAMES}.example/{number}"
            key = article_id(url)
            # publication times grow with the article number, as they do when feeds are polled
            age = span * (size - number) / size + float(jitter[index])
            published = (now - timedelta(seconds=age)).replace(tzinfo=None).isoformat()
            story = key
            if joins[index] and recent_stories:
                story = recent_stories[int(picks[index]) % len(recent_stories)]
            recent_stories.append(story)
            if len(recent_stories) > 200:
                recent_stories.pop(0)
            feed = number % FEEDS_IN_DB + 1
            source = f"Source {feed % SOURCE_NAMES}"
            rows.append((key, url, title, source, feed, published, published, "en", body, story))
        yield start, rows


def reset_database(database: ArticleDatabase) -> None:
    """Undo what an earlier run wrote: cached summaries, briefed stories, the outbox."""
    execute_in(
        database,
        "UPDATE articles SET summary = NULL, sentence_count = NULL WHERE summary IS NOT NULL",
        "DELETE FROM outbox",
        "DELETE FROM briefed_stories",
    )


def execute_in(database: ArticleDatabase, *statements: str, rows: Sequence[Any] = ()) -> None:
    """Run SQL statements (each once, or once per row of parameters) in one transaction on
    the store, whichever engine it is on."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database.url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), list(rows) or None)
    engine.dispose()


# --- cached PostgreSQL article databases ----------------------------------------------------

_COPY_COLUMNS = (
    "id", "url", "title", "source_name", "feed_id", "published_at", "first_seen_at", "language",
    "text", "story_id",
)  # fmt: skip


@contextmanager
def bench_postgres(admin_url: str | None, folder: str = "postgres-search") -> Iterator[str]:
    """The URL of a PostgreSQL role that may create databases: ``admin_url``, or a pgserver
    server whose data folder is kept under the bench cache (so a built store is reused),
    stopped afterwards."""
    if admin_url:
        yield admin_url
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        import pgserver

    data = CACHE / folder
    data.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def postgres_article_database(admin_url: str, size: int, *, log: Any = print) -> ArticleDatabase:
    """The PostgreSQL twin of :func:`article_database` (the same generated articles, feeds
    and stories) on the server of ``admin_url``, built on first use by COPY with the
    full-text index created once at the end, and kept for later runs."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"articles_{size}_{_schema_revision()}"
    url = admin.set(database=name).render_as_string(hide_password=False)
    folder = CACHE / name
    folder.mkdir(parents=True, exist_ok=True)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone():
            with psycopg.connect(_conninfo(url), autocommit=True) as built:
                row = (
                    built.execute(
                        "SELECT now_at FROM bench_built WHERE size = %s", [size]
                    ).fetchone()
                    if _has_table(built, "bench_built")
                    else None
                )
            if row:
                return ArticleDatabase(folder, size, row[0], url)
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    log(f"generating {size:,} articles into PostgreSQL database {name} (kept for later runs) ...")
    _generate_postgres(url, size, now, log)
    log(f"generated in {time.perf_counter() - started:.0f} s")
    return ArticleDatabase(folder, size, now, url)


def _conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _has_table(connection: Any, name: str) -> bool:
    found = connection.execute("SELECT to_regclass(%s)", [name]).fetchone()
    return bool(found and found[0])


def _generate_postgres(url: str, size: int, now: datetime, log: Any) -> None:
    import psycopg

    from bot.storage.sql import SqlStore

    SqlStore.open(url).close()  # the schema, by the real migrations
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        connection.execute("DROP INDEX IF EXISTS ix_articles_search")
        created = now - timedelta(days=RETENTION_DAYS + 1)
        connection.execute(
            "INSERT INTO feeds (url, name, guild_id, channel_id, initialized, created_at) "
            "SELECT 'http://feeds.invalid/' || (n - 1), 'Source ' || ((n - 1) %% %s), "
            "(n - 1) %% 50, 1000 + (n - 1) %% 50, true, %s FROM generate_series(1, %s) AS n",
            [SOURCE_NAMES, created, FEEDS_IN_DB],
        )
        for first, rows in _article_rows(size, now):
            buffer = io.StringIO()
            for values in rows:
                buffer.write("\t".join(_copy_escape(str(value)) for value in values) + "\n")
            with connection.cursor() as cursor:
                copy = f"COPY articles ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
                with cursor.copy(copy) as writer:  # type: ignore[arg-type]
                    writer.write(buffer.getvalue())
            if (first // _CHUNK_ROWS) % 20 == 19:
                log(f"  {first + len(rows):,} articles")
        connection.execute(
            "INSERT INTO article_feeds (article_id, feed_id, first_seen_at) "
            "SELECT id, feed_id, first_seen_at FROM articles"
        )
        log("  building the full-text index ...")
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("CREATE INDEX ix_articles_search ON articles USING GIN (search)")
        connection.execute("VACUUM ANALYZE articles")
        connection.execute("CREATE TABLE bench_built (size bigint, now_at timestamptz)")
        connection.execute("INSERT INTO bench_built VALUES (%s, %s)", [size, now])


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")


def point_feeds(database: ArticleDatabase, server: FeedServerProcess) -> None:
    """Aim the database's feeds at ``server`` with its current validators, all due now, so
    a poll cycle gets one 304 per feed."""
    with sqlite3.connect(database.path) as connection:
        connection.executemany(
            "UPDATE feeds SET url = ?, etag = ?, next_poll_at = NULL, paused = 0, "
            "failure_count = 0, failing_since = NULL, last_error = NULL WHERE id = ?",
            [
                (server.url(number, feed_path(number)), server.etags[feed_path(number)], number + 1)
                for number in range(FEEDS_IN_DB)
            ],
        )


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
