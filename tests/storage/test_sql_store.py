"""The store on both engines (a real SQLite file, a real PostgreSQL database): migrations,
dedupe, claims, full-text search, summaries, retention."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.core.errors import StorageError
from bot.core.models import NewArticle, NewDelivery
from bot.core.ports import FeedState, PollRecord
from bot.storage.engines import parse_search
from bot.storage.engines.sqlite import fts_match_expression
from bot.storage.sql import MIGRATIONS, SqlStore
from tests.support.postgres import TestPostgres

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STATE = FeedState(etag='"abc"', last_modified="Fri, 20 Nov 2026 12:00:00 GMT", body_hash="h1")


def article(key: str, title: str, text: str, *, feed_id: int, hours_ago: float = 1) -> NewArticle:
    return NewArticle(
        id=key,
        url=f"https://news.example/{key}",
        title=title,
        source_name="Example News",
        feed_id=feed_id,
        published_at=NOW - timedelta(hours=hours_ago),
        first_seen_at=NOW,
        text=text,
    )


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = SqlStore.open(database_url)
    yield opened
    opened.close()


def count_rows(url: str, statement: str) -> int:
    """One number from the database at ``url``, read on a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement)).scalar_one()
    finally:
        engine.dispose()


def test_open_creates_folder_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "news.db"
    SqlStore.open(f"sqlite:///{path}").close()
    assert path.is_file()
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert {
        "feeds",
        "articles",
        "article_feeds",
        "articles_fts",
        "subscriptions",
        "schedules",
    } <= tables
    assert mode == "wal"
    assert revision == "0011"


def test_reopening_keeps_data(database_url: str) -> None:
    url = database_url
    first = SqlStore.open(url)
    feed = first.add_feed("https://news.example/rss", "Example")
    first.store_articles(feed.id, [article("a1", "T", "Body.", feed_id=feed.id)], STATE, NOW)
    first.close()
    second = SqlStore.open(url)
    assert second.stats().articles == 1
    assert second.list_feeds()[0].etag == '"abc"'
    second.close()


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="not supported"):
        SqlStore.open("mysql://user@localhost/db")
    with pytest.raises(StorageError, match="invalid database URL"):
        SqlStore.open("::nonsense::")


def test_concurrent_stores_of_the_same_articles_store_and_plan_each_once(store: SqlStore) -> None:
    feeds = [store.add_feed(f"https://{n}.example/rss", f"Feed {n}") for n in range(4)]
    items = [article(f"a{n}", f"Story {n}", "Body.", feed_id=feeds[0].id) for n in range(60)]
    plans = {
        a.id: [
            NewDelivery(
                dedupe_key=f"alert:user:{user}:{a.id}",
                kind="alert",
                guild_id=1,
                recipient_type="user",
                recipient_id=user,
                story_id=a.id,
            )
            for user in (1, 2)
        ]
        for a in items
    }
    with ThreadPoolExecutor(len(feeds)) as pool:
        batches = list(
            pool.map(lambda feed: store.store_articles(feed.id, items, STATE, NOW, plans), feeds)
        )
    new = [key for batch in batches for key in batch.new_ids]
    assert sorted(new) == sorted(a.id for a in items)
    assert sum(batch.seen_count for batch in batches) == len(items) * (len(feeds) - 1)
    assert store.stats().articles == len(items)
    assert store.delivery_statuses() == {"pending": 2 * len(items)}
    assert len(store.search("body", limit=100)) == len(items)


def test_batches_stored_together_fail_alone(database_url: str, store: SqlStore) -> None:
    """Feeds stored at once share a transaction (group commit); one the database refuses
    (a NULL title) fails alone and every other feed's articles are stored."""
    feeds = [store.add_feed(f"https://{n}.example/rss", f"Feed {n}") for n in range(6)]
    batches = {
        feed.id: [
            article(f"f{feed.id}-{n}", f"Story {n}", "Body.", feed_id=feed.id) for n in range(5)
        ]
        for feed in feeds
    }
    bad = feeds[3].id
    batches[bad][2] = replace(batches[bad][2], title=None)  # type: ignore[arg-type]
    blocker = None
    if database_url.startswith("sqlite:///"):
        blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        blocker.execute("BEGIN IMMEDIATE")  # writers queue up behind it, then go together

    def store_one(feed_id: int) -> object:
        try:
            return store.store_articles(feed_id, batches[feed_id], STATE, NOW)
        except Exception as error:  # what the engine raised for the refused batch
            return error

    with ThreadPoolExecutor(len(feeds)) as pool:
        futures = {feed.id: pool.submit(store_one, feed.id) for feed in feeds}
        if blocker is not None:
            time.sleep(0.3)
            blocker.rollback()
            blocker.close()
        outcomes = {feed_id: future.result() for feed_id, future in futures.items()}
    assert isinstance(outcomes.pop(bad), Exception)
    assert all(len(outcome.new_ids) == 5 for outcome in outcomes.values())  # type: ignore[attr-defined]
    assert store.stats().articles == 5 * (len(feeds) - 1)
    assert store.get_feed(bad).initialized is False  # type: ignore[union-attr]


def test_add_feed_is_an_upsert_per_guild(store: SqlStore) -> None:
    first = store.add_feed("https://news.example/rss", "Example")
    again = store.add_feed("https://news.example/rss", "Renamed", extract_full_text=True)
    other_guild = store.add_feed("https://news.example/rss", "Example", guild_id=42)
    assert again.id == first.id and again.name == "Renamed" and again.extract_full_text
    assert other_guild.id != first.id and other_guild.guild_id == 42
    assert [f.id for f in store.list_feeds(0)] == [first.id]
    assert store.remove_feed(first.id) and not store.remove_feed(first.id)


def test_store_articles_dedupes_and_links_feeds(store: SqlStore) -> None:
    a = store.add_feed("https://a.example/rss", "A")
    b = store.add_feed("https://b.example/rss", "B")
    shared = article("same", "Shared story", "Body.", feed_id=a.id)
    batch = store.store_articles(a.id, [shared, shared], STATE, NOW)
    assert batch.new_ids == ("same",) and batch.seen_count == 0
    batch = store.store_articles(b.id, [shared], STATE, NOW)
    assert batch.new_ids == () and batch.seen_count == 1
    assert store.stats().articles == 1
    assert store.known_article_ids(["same", "other"]) == {"same"}
    feed = store.get_feed(b.id)
    assert feed is not None and feed.initialized and feed.last_success_at == NOW


def test_errors_and_not_modified_are_recorded(store: SqlStore) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    store.record_feed_error(feed.id, "HTTP 500 from https://a.example/rss", NOW)
    store.record_feed_error(feed.id, "HTTP 500 again", NOW)
    failing = store.get_feed(feed.id)
    assert failing is not None and failing.failure_count == 2
    assert failing.last_error == "HTTP 500 again" and failing.last_error_at == NOW
    store.record_not_modified(feed.id, STATE, NOW + timedelta(minutes=10))
    healthy = store.get_feed(feed.id)
    assert healthy is not None and healthy.failure_count == 0 and healthy.last_error is None
    assert healthy.etag == '"abc"' and not healthy.initialized


def test_polls_are_recorded_in_one_batch(store: SqlStore) -> None:
    unchanged = store.add_feed("https://a.example/rss", "A")
    fetched = store.add_feed("https://b.example/rss", "B")
    failing = store.add_feed("https://c.example/rss", "C")
    store.record_feed_error(unchanged.id, "HTTP 500", NOW)
    store.schedule_next_poll(fetched.id, NOW, ttl_minutes=90)
    later = NOW + timedelta(minutes=10)
    store.record_polls(
        [
            PollRecord(unchanged.id, later, unchanged=STATE),
            PollRecord(fetched.id, later + timedelta(minutes=80)),  # its <ttl> is kept
            PollRecord(failing.id, later, ttl_minutes=30, pause_reason="gone (HTTP 410)"),
        ],
        later,
    )
    a, b, c = (store.get_feed(feed.id) for feed in (unchanged, fetched, failing))
    assert a is not None and b is not None and c is not None
    assert (a.etag, a.last_modified, a.body_hash) == (STATE.etag, STATE.last_modified, "h1")
    assert a.last_success_at == later and a.failure_count == 0 and a.last_error is None
    assert a.next_poll_at == later and not a.paused
    assert b.next_poll_at == later + timedelta(minutes=80) and b.ttl_minutes == 90
    assert b.etag is None and b.last_success_at is None
    assert c.paused and c.paused_reason == "gone (HTTP 410)" and c.ttl_minutes == 30
    store.record_polls([], later)  # nothing to do


def test_time_window_and_latest(store: SqlStore) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    items = [
        article(f"a{h}", f"Story {h}", "Body.", feed_id=feed.id, hours_ago=h) for h in (1, 5, 30)
    ]
    store.store_articles(feed.id, items, STATE, NOW)
    window = store.articles_between(NOW - timedelta(hours=24), NOW, limit=10)
    assert [a.id for a in window] == ["a1", "a5"]
    assert [a.id for a in store.latest_articles(2)] == ["a1", "a5"]
    assert [a.id for a in store.latest_articles(5, source="example news")] == ["a1", "a5", "a30"]
    assert store.latest_articles(5, source="nobody") == []
    assert window[0].published_at.tzinfo is not None


def test_full_text_search_ranks_title_matches_first(store: SqlStore) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    store.store_articles(
        feed.id,
        [
            article(
                "body",
                "Harvest begins",
                "Sanctions were mentioned once in passing.",
                feed_id=feed.id,
            ),
            article(
                "title",
                "New sanctions on oil exports",
                "Officials announced measures.",
                feed_id=feed.id,
            ),
            article("old", "Sanctions of the past", "History.", feed_id=feed.id, hours_ago=100),
        ],
        STATE,
        NOW,
    )
    hits = store.search("sanction", since=NOW - timedelta(hours=24))
    assert [hit.article.id for hit in hits] == ["title", "body"]
    assert "\x02Sanctions\x03" in hits[1].snippet
    assert [h.article.id for h in store.search('"oil exports"')] == ["title"]
    assert store.search("   ") == [] and store.search('"" ***') == []


def test_summaries_are_cached(store: SqlStore) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    store.store_articles(feed.id, [article("a", "T", "Body.", feed_id=feed.id)], STATE, NOW)
    store.save_summaries({"a": (("Zeppelins return to the sky.",), 7)})
    cached = store.latest_articles(1)[0]
    assert cached.summary == ("Zeppelins return to the sky.",) and cached.sentence_count == 7


def test_search_ranks_only_the_newest_matches(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    titles = ["Comet comet comet", "A comet", "Comet seen", "Comet again"]  # oldest first
    for number, title in enumerate(titles):
        store.store_articles(
            feed.id, [article(f"c{number}", title, "Sky.", feed_id=feed.id)], STATE, NOW
        )
    assert store.search("comet")[0].article.id == "c0"  # the best match, when all are ranked
    monkeypatch.setattr("bot.storage.articles.SEARCH_CANDIDATES", 3)
    assert {hit.article.id for hit in store.search("comet")} == {"c1", "c2", "c3"}
    assert store.search("comet", since=NOW - timedelta(hours=24), limit=1)[0].article.id in {
        "c1",
        "c2",
        "c3",
    }


def test_pruning_removes_old_articles_and_what_hangs_on_them(
    store: SqlStore, database_url: str
) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    old = [
        replace_times(article(f"old{n}", f"Glacier {n}", "Ice melts.", feed_id=feed.id), days=40)
        for n in range(5)
    ]
    recent = article("new", "Glacier grows", "Ice forms.", feed_id=feed.id)
    seen_lately = replace_times(  # published long ago, but stored this week: kept
        article("late", "Glacier archive", "Old ice.", feed_id=feed.id), days=40, seen_days=2
    )
    store.store_articles(feed.id, [*old, recent, seen_lately], STATE, NOW)
    schedule = store.add_schedule(1, 9, "08:00", "UTC", (1,), None, 1, NOW - timedelta(days=40))
    briefed_at = NOW - timedelta(days=39)
    store.record_schedule_run(schedule, briefed_at, None, ["old0", "new"], briefed_at)
    done = NewDelivery(
        dedupe_key="k", kind="alert", guild_id=1, recipient_type="user", recipient_id=1
    )
    store.enqueue([done], NOW - timedelta(days=40))
    [claimed] = store.claim_deliveries(NOW, 1, NOW)
    store.mark_delivered(claimed.id, "m1", NOW - timedelta(days=40))

    before = NOW - timedelta(days=30)
    assert store.prune_articles(before, batch_size=2) == 5
    assert {a.id for a in store.latest_articles(10)} == {"new", "late"}
    assert [hit.article.id for hit in store.search("glacier")] in (["new", "late"], ["late", "new"])
    assert store.search("melts") == []
    assert store.briefed_story_ids(9, ["old0", "new"]) == {"new"}  # old0's story is empty
    assert store.delivery_statuses() == {}
    assert count_rows(database_url, "SELECT count(*) FROM article_feeds") == 2
    if database_url.startswith("sqlite"):
        assert count_rows(database_url, "SELECT count(*) FROM articles_fts") == 2
    assert store.prune_articles(before) == 0


def replace_times(item: NewArticle, *, days: float, seen_days: float | None = None) -> NewArticle:
    seen = days if seen_days is None else seen_days
    return replace(
        item,
        published_at=NOW - timedelta(days=days),
        first_seen_at=NOW - timedelta(days=seen),
    )


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("iran strikes", '"iran" "strikes"'),
        ('"oil exports" NOT', '"oil exports" "NOT"'),
        ("a*b OR (c)", '"a b" "OR" "c"'),
        ("", ""),
    ],
)
def test_user_text_never_reaches_fts_syntax(query: str, expression: str) -> None:
    assert fts_match_expression(parse_search(query)) == expression


def _database_at(path: Path, revision: str) -> Path:
    """A new SQLite database migrated only up to ``revision``."""
    _migrate(f"sqlite:///{path}", revision)
    return path


def _migrate(url: str, revision: str) -> None:
    """Migrate the database at ``url`` up to ``revision`` only."""
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_upgrading_from_0003_keeps_schedules_and_feeds_active(tmp_path: Path) -> None:
    path = _database_at(tmp_path / "old.db", "0003")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO schedules (guild_id, channel_id, time_of_day, timezone, days, "
            "created_by, created_at) VALUES (1, 2, '08:00', 'UTC', '12345', 3, "
            "'2026-01-01 00:00:00')"
        )
        connection.execute(
            "INSERT INTO feeds (guild_id, url, name, created_at) "
            "VALUES (1, 'https://news.example/rss', 'Old', '2026-01-01 00:00:00')"
        )
    store = SqlStore.open(f"sqlite:///{path}")
    (schedule,) = store.list_schedules()
    assert schedule.active and schedule.disabled_reason is None
    (feed,) = store.list_feeds()
    assert feed.created_by is None and not feed.paused
    store.close()


def test_upgrading_to_0010_keeps_every_subscription_matching(tmp_path: Path) -> None:
    """Migration 0010 re-stems stored queries for PyStemmer; with the stemmers agreeing on
    these words, the queries stay as they were and still match their articles."""
    from bot.pipeline.query import MatchDocument, QueryMatcher, parse_query

    path = _database_at(tmp_path / "old.db", "0006")
    queries = ["realization", '"oil exports" NOT football', "(iran OR iraq) sanctions"]
    with sqlite3.connect(path) as connection:
        for number, query in enumerate(queries):
            connection.execute(
                "INSERT INTO subscriptions (guild_id, user_id, query, delivery, created_at) "
                "VALUES (1, ?, ?, 'dm', '2026-01-01 00:00:00')",
                (number, query),
            )
    store = SqlStore.open(f"sqlite:///{path}")
    stored = [subscription.query for subscription in store.active_subscriptions()]
    store.close()
    assert stored == queries
    matcher = QueryMatcher()
    texts = ["Realizations", "Oil exports fell", "Iraq sanctioned"]
    for query, headline in zip(stored, texts, strict=True):
        terms = matcher.document_terms(MatchDocument(headline, "", "news.example", "News"))
        assert matcher.matches(parse_query(query), terms)


def test_pause_feed_and_disable_schedule_report_only_the_first_time(store: SqlStore) -> None:
    feed = store.add_feed("https://news.example/rss", "Example", guild_id=5, created_by=77)
    assert feed.created_by == 77
    paused = store.pause_feed(feed.id, "missing permissions")
    assert paused is not None and paused.paused and paused.paused_reason == "missing permissions"
    assert store.pause_feed(feed.id, "again") is None
    assert store.pause_feed(9999, "gone") is None
    schedule = store.add_schedule(5, 6, "08:00", "UTC", (1, 2), None, 77, NOW)
    stopped = store.disable_schedule(schedule.id, "unknown channel")
    assert stopped is not None and not stopped.active
    assert stopped.disabled_reason == "unknown channel"
    assert store.disable_schedule(schedule.id, "again") is None


def test_a_summary_never_changes_what_search_ranks_first(store: SqlStore) -> None:
    feed = store.add_feed("https://news.example/rss", "Example")
    items = [
        article(
            "plain", "Harbour report", "The harbour opened. Ferries ran late.", feed_id=feed.id
        ),
        article(
            "told", "Harbour notes", "The harbour opened. Ferries ran on time.", feed_id=feed.id
        ),
    ]
    store.store_articles(feed.id, items, STATE, NOW)
    before = [hit.article.id for hit in store.search("harbour ferries")]
    store.save_summaries({"told": (("The harbour opened.", "Ferries harbour harbour."), 2)})
    after = [hit.article.id for hit in store.search("harbour ferries")]
    assert after == before
    assert store.search("Ferries harbour harbour")[0].snippet  # the snippet is the text's


def test_upgrading_from_0005_reindexes_titles_and_texts_only(tmp_path: Path) -> None:
    path = _database_at(tmp_path / "old.db", "0005")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO articles (id, url, title, source_name, published_at, first_seen_at, "
            "text, summary, story_id) VALUES ('k1', 'https://news.example/1', 'Canal reopens', "
            "'Example', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
            "'The canal reopened on Monday.', '[\"Barges queued overnight.\"]', 'k1')"
        )
        for pk in (7000, 12000):  # keys in three chunks of the rebuild
            connection.execute(
                "INSERT INTO articles (pk, id, url, title, source_name, published_at, "
                "first_seen_at, text, story_id) VALUES (?, ?, ?, 'Lock gates', 'Example', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 'The lock gates were mended.', ?)",
                (pk, f"k{pk}", f"https://news.example/{pk}", f"k{pk}"),
            )
    store = SqlStore.open(f"sqlite:///{path}")
    assert [hit.article.id for hit in store.search("canal reopened")] == ["k1"]
    assert {hit.article.id for hit in store.search("gates mended")} == {"k7000", "k12000"}
    assert store.search("barges") == []  # words only in the summary are not indexed
    store.close()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        connection.execute("DELETE FROM articles WHERE id = 'k1'")
        connection.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_equal_scores_go_to_the_newer_article_and_syntax_is_only_text(store: SqlStore) -> None:
    feed = store.add_feed("https://news.example/rss", "Example")
    for key in ("older", "newer"):  # stored in this order, with the same words
        store.store_articles(
            feed.id,
            [article(key, "Tide tables", "Tide tables for the coast.", feed_id=feed.id)],
            STATE,
            NOW,
        )
    assert [hit.article.id for hit in store.search("tide")] == ["newer", "older"]
    assert [hit.article.id for hit in store.search("tide", limit=1)] == ["newer"]
    hostile = "tide & (coast | !tables) :* <-> 'x' \\ NEAR(a b) tide*"
    assert {hit.article.id for hit in store.search(hostile)} <= {"newer", "older"}


def test_upgrading_postgresql_from_0006_indexes_the_stored_articles(
    test_postgres: TestPostgres,
) -> None:
    url = test_postgres.new_database(migrated=False)
    _migrate(url, "0006")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (id, url, title, source_name, published_at, "
                "first_seen_at, text, story_id) VALUES ('k1', 'https://news.example/1', "
                "'Canal reopens', 'Example', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                "'Barges queued overnight.', 'k1')"
            )
        )
    engine.dispose()
    store = SqlStore.open(url)
    try:
        assert [hit.article.id for hit in store.search("canal")] == ["k1"]
        assert [hit.article.id for hit in store.search("barges queued")] == ["k1"]
    finally:
        store.close()
        test_postgres.drop_database(url)


def test_a_parsed_query_searches_with_or_not_and_phrases(store: SqlStore) -> None:
    from bot.pipeline.query import parse_query

    feed = store.add_feed("https://a.example/rss", "A")
    store.store_articles(
        feed.id,
        [
            article("drones", "Drone attacks on the port", "Three drones hit.", feed_id=feed.id),
            article("militia", "Militia seizes a town", "Fighters arrived.", feed_id=feed.id),
            article("drone show", "A drone show", "Lights over attacks of joy.", feed_id=feed.id),
            article("weather", "Rain tomorrow", "Clouds.", feed_id=feed.id),
        ],
        STATE,
        NOW,
    )

    def found(text: str) -> set[str]:
        return {hit.article.id for hit in store.search(parse_query(text))}

    assert found('"drone attacks" OR militia') == {"drones", "militia"}
    assert found("drone NOT show") == {"drones"}
    assert found("(drone OR militia) -port") == {"drone show", "militia"}
    assert found("source:a.example") == set(), "source filters are the caller's to check"


def test_a_guild_sees_public_and_its_own_feeds_articles_only(store: SqlStore) -> None:
    public = store.add_feed("https://public.example/rss", "Public")
    mine = store.add_feed("https://mine.example/rss", "Mine", guild_id=1)
    theirs = store.add_feed("https://theirs.example/rss", "Theirs", guild_id=2)
    for feed, key in ((public, "p"), (mine, "m"), (theirs, "t")):
        store.store_articles(
            feed.id, [article(key, f"Story {key}", "Text.", feed_id=feed.id)], STATE, NOW
        )
    store.store_articles(
        theirs.id, [article("p", "Story p", "Text.", feed_id=theirs.id)], STATE, NOW
    )
    assert store.visible_article_ids(1, ["p", "m", "t", "gone"]) == {"p", "m", "gone"}
    assert store.visible_article_ids(2, ["p", "m", "t"]) == {"p", "t"}


def test_search_widens_its_look_back_until_it_has_its_newest_matches(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    matching = {1, 5, 30}
    store.store_articles(
        feed.id,
        [
            article(
                f"n{number}",
                f"Report {number}",
                "A glacier retreats." if number in matching else "Nothing here.",
                feed_id=feed.id,
                hours_ago=100 - number,
            )
            for number in range(40)  # stored oldest first: later numbers are newer
        ],
        STATE,
        NOW,
    )
    monkeypatch.setattr("bot.storage.articles.SEARCH_CANDIDATES", 2)
    # the newest 8 articles hold no match: the search looks further back for its two
    assert [hit.article.id for hit in store.search("glacier")] == ["n30", "n5"]
    since = NOW - timedelta(hours=90)  # n10 and newer
    assert [hit.article.id for hit in store.search("glacier", since=since)] == ["n30"]


def test_a_phrase_is_found_behind_many_articles_holding_its_words_apart(store: SqlStore) -> None:
    feed = store.add_feed("https://a.example/rss", "A")
    store.store_articles(
        feed.id,
        [article("phrase", "Birds", "A red kite circled.", feed_id=feed.id, hours_ago=200)]
        + [
            article(f"apart{n}", "Birds", "A kite, then a red car.", feed_id=feed.id)
            for n in range(30)
        ],
        STATE,
        NOW,
    )
    assert [hit.article.id for hit in store.search('"red kite"')] == ["phrase"]
    assert len(store.search("red kite", limit=50)) == 31


def test_postgresql_checks_a_phrase_in_the_newest_articles_holding_its_words(
    store: SqlStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite finds phrases in its index")
    feed = store.add_feed("https://a.example/rss", "A")
    store.store_articles(
        feed.id,
        [
            article("old", "Birds", "A red kite circled.", feed_id=feed.id, hours_ago=9),
            article("apart", "Birds", "A kite, then a red car.", feed_id=feed.id, hours_ago=5),
            article("new", "Birds", "Another red kite.", feed_id=feed.id, hours_ago=1),
        ],
        STATE,
        NOW,
    )
    monkeypatch.setattr("bot.storage.engines.postgresql.PHRASE_CHECKS", 2)
    assert [hit.article.id for hit in store.search('"red kite"')] == ["new"]


def test_postgresql_ranks_on_the_title_and_the_opening_of_the_text(
    store: SqlStore, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite ranks with bm25 over the whole text")
    feed = store.add_feed("https://a.example/rss", "A")
    filler = "Ordinary words fill this paragraph of the report. " * 10  # past the opening
    store.store_articles(
        feed.id,
        [
            article("deep", "Port news", filler + "Walrus sighted.", feed_id=feed.id),
            article(
                "opening", "Port news", "Walrus sighted. " + filler, feed_id=feed.id, hours_ago=2
            ),
            article("title", "Walrus in the port", filler, feed_id=feed.id, hours_ago=3),
        ],
        STATE,
        NOW,
    )
    hits = store.search("walrus")
    assert [hit.article.id for hit in hits] == ["title", "opening", "deep"]
    assert hits[0].score > hits[1].score > hits[2].score == 0
    assert "\x02Walrus\x03" in hits[2].snippet
