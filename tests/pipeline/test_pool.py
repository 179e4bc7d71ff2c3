"""Feed parsing in worker processes: same result as in-process, errors come back as raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ParseError
from bot.pipeline.parse import parse_feed
from bot.pipeline.pool import ParserPool

# feedparser warns when parse.py asks an item for ``updated_parsed`` (its own deprecation)
pytestmark = pytest.mark.filterwarnings("ignore:To avoid breaking existing software")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
HEADERS = {"Content-Type": "application/rss+xml"}


def feed_body() -> bytes:
    text = (FIXTURES / "rss2.xml").read_text(encoding="utf-8")
    return text.replace("{base}", "http://news.example").encode()


@pytest.mark.parametrize("processes", [0, 1])
async def test_a_worker_parses_like_this_process(processes: int) -> None:
    body = feed_body()
    with ParserPool(processes) as pool:
        parsed = await pool.parse(body, url="http://news.example/rss", headers=HEADERS)
        with pytest.raises(ParseError, match="not a feed"):
            await pool.parse(b"<html>no feed</html>", url="http://x.example/", headers={})
    assert parsed == parse_feed(body, url="http://news.example/rss", headers=HEADERS)
    assert parsed.entries


async def test_workers_are_other_processes_and_stop_on_close() -> None:
    pool = ParserPool(1)
    assert pool.processes == 1
    await pool.parse(feed_body(), url="http://news.example/rss", headers=HEADERS)
    pool.close()
    assert pool.processes == 0
    # once closed, parsing still works, in this process
    parsed = await pool.parse(feed_body(), url="http://news.example/rss", headers=HEADERS)
    assert parsed.entries


async def test_pages_are_extracted_in_a_worker() -> None:
    from bot.core.errors import ExtractionError

    page = (FIXTURES.parent / "pages" / "harvest.html").read_bytes()
    with ParserPool(1) as pool:
        extracted = await pool.extract(page, "http://news.example/harvest")
        with pytest.raises(ExtractionError):
            await pool.extract(b"<html><body></body></html>", "http://news.example/empty")
    assert "harvest" in extracted.text.lower()


def test_negative_process_count_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        ParserPool(-1)


async def test_articles_read_in_a_worker_cluster_and_match_as_read_here() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.core.models import Feed, NewArticle, Subscription
    from bot.pipeline.stories import StoryAssigner
    from bot.services.alerts import AlertPlanner

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    texts = [
        ("Floods close roads in Lyon", "Heavy rain flooded the centre of Lyon on Monday. " * 8),
        ("Lyon floods close roads", "Heavy rain flooded the centre of Lyon on Monday. " * 8),
        ("Chess final drawn in Oslo", "The world chess final in Oslo ended in a draw. " * 8),
    ]
    articles = [
        NewArticle(
            id=f"a{number}",
            url=f"https://news.example/{number}",
            title=title,
            source_name="Example News",
            feed_id=1,
            published_at=now - timedelta(minutes=10 - number),
            first_seen_at=now,
            text=text,
        )
        for number, (title, text) in enumerate(texts)
    ]
    here, there = StoryAssigner(), StoryAssigner()
    with ParserPool(1) as pool:
        readings = await pool.read(articles, there.reading_settings)
    assert readings is not None and set(readings) == {"a0", "a1", "a2"}
    assert (
        [here.assign(a, now) for a in articles]
        == [there.assign(a, now, readings[a.id].story) for a in articles]
        == ["a0", "a0", "a2"]
    )
    planner = AlertPlanner()
    planner.add(
        Subscription(
            id=1, guild_id=1, user_id=5, query="flood", delivery="dm", channel_id=None,
            created_at=now,
        )
    )  # fmt: skip
    feed = Feed(id=1, url="https://news.example/rss", name="Example")
    assert planner.plan(feed, articles) == planner.plan(feed, articles, readings)
    assert set(planner.plan(feed, articles)) == {"a0", "a1"}
    with ParserPool(0) as pool:
        assert await pool.read(articles, there.reading_settings) is None
