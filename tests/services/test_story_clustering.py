"""Story clustering as a one-process job over articles stored without a story: the same
stories as clustering at ingest, whichever process stored the articles, across a takeover."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_services, refresh_configured
from bot.config import load_settings
from bot.core.models import FeedState, NewArticle
from bot.pipeline.stories import StoryAssigner
from bot.services.clustering import STORIES_LOCK, StoryClustering
from bot.storage.sql import SqlStore
from tests.conftest import write_config
from tests.support.feed_server import FeedServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clusters" / "articles.jsonl"
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
STATE = FeedState(etag=None, last_modified=None, body_hash=None)


def made_up_news(feed_id: int) -> list[NewArticle]:
    """The clustering fixtures in their time order, ten minutes apart (all in one week)."""
    rows = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines()]
    rows.sort(key=lambda row: (row["published"], row["id"]))
    return [
        NewArticle(
            id=row["id"],
            url=f"https://news.example/{row['id']}",
            title=row["title"],
            source_name=row["source"],
            feed_id=feed_id,
            published_at=START + timedelta(minutes=10 * number),
            first_seen_at=START + timedelta(minutes=10 * number),
            text=row["text"],
        )
        for number, row in enumerate(rows)
    ]


def stories_of(store: SqlStore) -> dict[str, str]:
    end = START + timedelta(days=2)
    return {a.id: a.story_id for a in store.articles_between(START, end, limit=1000)}


def recent_placed(store: SqlStore) -> StoryAssigner:
    """A clusterer that warms up as the bot's does: the placed articles of the last week."""

    def recent(now: datetime) -> list:
        return store.articles_between(now - timedelta(days=7), now, limit=5000, with_story=True)[
            ::-1
        ]

    return StoryAssigner(recent=recent)


def test_the_job_makes_the_stories_ingest_makes_across_processes_and_a_takeover(
    tmp_path: Path, database_url: str
) -> None:
    at_ingest = SqlStore.open(f"sqlite:///{tmp_path / 'ingest.db'}")
    feed = at_ingest.add_feed("https://news.example/feed", "Wire")
    articles = made_up_news(feed.id)
    assigner = StoryAssigner()
    for article in articles:
        placed = replace(article, story_id=assigner.assign(article, article.first_seen_at))
        at_ingest.store_articles(feed.id, [placed], STATE, article.first_seen_at)
    expected = stories_of(at_ingest)
    at_ingest.close()
    assert len(set(expected.values())) < len(expected)  # some articles did join stories

    # Two processes store the articles alternately, without stories.
    first, second = SqlStore.open(database_url), SqlStore.open(database_url)
    feed = first.add_feed("https://news.example/feed", "Wire")
    articles = made_up_news(feed.id)
    clock = [START]
    holder = StoryClustering(first, lambda: clock[0], lambda: recent_placed(first))
    half = len(articles) // 2
    for number, article in enumerate(articles[:half]):
        (first if number % 2 else second).store_articles(
            feed.id, [article], STATE, article.first_seen_at
        )
    assert len(first.articles_without_story(1000)) == half
    clock[0] = articles[half - 1].first_seen_at
    assert holder.place_waiting() == half
    # The holder dies; the other process takes over with nothing in memory.
    successor = StoryClustering(second, lambda: clock[0], lambda: recent_placed(second))
    successor.take_over()
    for number, article in enumerate(articles[half:]):
        (first if number % 2 else second).store_articles(
            feed.id, [article], STATE, article.first_seen_at
        )
    clock[0] = articles[-1].first_seen_at
    assert successor.place_waiting() == len(articles) - half
    assert first.articles_without_story(1000) == []
    assert stories_of(first) == expected
    first.close()
    second.close()


async def test_a_one_off_refresh_places_its_articles_unless_a_process_holds_the_job(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    workspace = write_config(tmp_path, urls=[feed_server.url("/rss2.xml")],
                             allow=[feed_server.allow_entry])  # fmt: skip
    settings = load_settings({**workspace.env, "NEWSBOT_DATABASE_URL": database_url})
    async with open_services(settings) as services:
        holder = services.store.try_lock(STORIES_LOCK)  # a running process's job
        assert holder is not None
        await refresh_configured(services)
        waiting = services.store.articles_without_story(100)
        holder.release()
        await refresh_configured(services)
        placed_now = services.store.articles_without_story(100)
    if services.clustering is None:  # SQLite: placed at ingest
        assert (waiting, placed_now) == ([], [])
    else:
        assert len(waiting) == 2
        assert placed_now == []
