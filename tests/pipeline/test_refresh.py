"""refresh_feed against a real loopback server and a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Services, open_services, refresh_configured
from bot.config import load_settings
from tests.conftest import write_config
from tests.support.feed_server import FeedServer

FORMATS = {
    "/rss2.xml": "feeds/rss2.xml",
    "/atom.xml": "feeds/atom.xml",
    "/rss1.xml": "feeds/rss1.xml",
    "/rss091.xml": "feeds/rss091.xml",
    "/atom03.xml": "feeds/atom03.xml",
    "/feed.json": "feeds/feed.json",
    "/feed10.json": "feeds/feed10.json",
}


@pytest.fixture
async def services(tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[Services]:
    for path, fixture in FORMATS.items():
        feed_server.add_fixture(path, fixture)
    workspace = write_config(
        tmp_path,
        urls=[feed_server.url(path) for path in FORMATS],
        allow=[feed_server.allow_entry],
    )
    async with open_services(load_settings(workspace.env)) as opened:
        yield opened


def titles(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT title FROM articles ORDER BY title")]


async def test_every_format_is_stored(services: Services, tmp_path: Path) -> None:
    results = await refresh_configured(services)
    assert [r.status for r in results] == ["new"] * len(FORMATS)
    stored = titles(tmp_path / "data" / "newsbot.db")
    # The solar farm story is in two feeds under two headlines; whichever feed's refresh
    # stores it first names it, and it is stored once.
    solar = {"Harbor city opens floating solar farm", "Floating solar farm opens in Port Ellery"}
    assert len(solar & set(stored)) == 1
    assert sorted(set(stored) - solar) == [
        "Central bank holds interest rates steady",
        "City council approves bike lane network",
        "Library starts lending out telescopes",
        "Mountain village wins fight to keep its school",
        "Museum returns stolen painting to its owners",
        "New electric ferry enters service on the lake",
        "Northern rail strike ends after pay deal",
        "Researchers map deep-sea coral reef off the Azores",
    ]


async def test_same_article_in_two_feeds_is_stored_once(
    services: Services, tmp_path: Path, feed_server: FeedServer
) -> None:
    await refresh_configured(services)
    with sqlite3.connect(tmp_path / "data" / "newsbot.db") as connection:
        rows = connection.execute(
            "SELECT url, (SELECT count(*) FROM article_feeds f WHERE f.article_id = a.id) "
            "FROM articles a WHERE url LIKE '%solar-farm%'"
        ).fetchall()
    assert rows == [(feed_server.url("/news/solar-farm"), 2)]


async def test_second_refresh_is_conditional_and_parses_nothing(
    services: Services, feed_server: FeedServer
) -> None:
    await refresh_configured(services)
    again = await refresh_configured(services)
    assert [r.status for r in again] == ["not modified"] * len(FORMATS)
    for path in FORMATS:
        first, second = feed_server.hits(path)
        assert first.status == 200
        assert second.status == 304
        assert second.headers["if-none-match"].startswith('"')
        assert "if-modified-since" in second.headers


async def test_unchanged_body_without_validators_is_not_parsed_again(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/plain.xml", "feeds/rss2.xml", validators=False)
    workspace = write_config(
        tmp_path, urls=[feed_server.url("/plain.xml")], allow=[feed_server.allow_entry]
    )
    async with open_services(load_settings(workspace.env)) as services:
        assert [r.status for r in await refresh_configured(services)] == ["new"]
        assert [r.status for r in await refresh_configured(services)] == ["not modified"]
        assert all(hit.status == 200 for hit in feed_server.hits("/plain.xml"))


async def test_first_fetch_is_backfill_later_items_are_new(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/feed.json", "feeds/feed10.json")
    workspace = write_config(
        tmp_path, urls=[feed_server.url("/feed.json")], allow=[feed_server.allow_entry]
    )
    async with open_services(load_settings(workspace.env)) as services:
        await refresh_configured(services)
        feed_server.add_fixture("/feed.json", "feeds/feed.json")
        second = await refresh_configured(services)
    assert second[0].new_articles == 2
    with sqlite3.connect(workspace.database) as connection:
        flags = dict(connection.execute("SELECT title, backfill FROM articles"))
    assert flags == {
        "Museum returns stolen painting to its owners": 1,
        "Library starts lending out telescopes": 0,
        "New electric ferry enters service on the lake": 0,
    }


async def test_teaser_feed_fetches_article_pages(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_fixture("/teaser.xml", "feeds/teaser.xml")
    feed_server.add_fixture("/pages/harvest.html", "pages/harvest.html")
    url = feed_server.url("/teaser.xml")
    workspace = write_config(tmp_path, urls=[url], allow=[feed_server.allow_entry], full_text=[url])
    async with open_services(load_settings(workspace.env)) as services:
        await refresh_configured(services)
    with sqlite3.connect(workspace.database) as connection:
        rows = dict(
            (title, (text, teaser))
            for title, text, teaser in connection.execute(
                "SELECT title, text, text_is_teaser FROM articles"
            )
        )
    harvest_text, harvest_teaser = rows["Vineyards report early harvest after hot summer"]
    assert "heat-tolerant grape varieties" in harvest_text
    assert "cookies" not in harvest_text and "Most read" not in harvest_text
    assert harvest_teaser == 0
    cellar_text, cellar_teaser = rows["Cellar tours resume this weekend"]
    assert cellar_text.startswith("Wineries reopen their cellars")
    assert cellar_teaser == 1


async def test_one_failing_feed_does_not_stop_the_others(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/good.xml", "feeds/rss2.xml")
    feed_server.add("/broken.xml", "<html><body>Gone fishing</body></html>", "text/html")
    urls = [
        feed_server.url("/missing.xml"),
        feed_server.url("/broken.xml"),
        feed_server.url("/good.xml"),
    ]
    workspace = write_config(tmp_path, urls=urls, allow=[feed_server.allow_entry])
    async with open_services(load_settings(workspace.env)) as services:
        results = await refresh_configured(services)
        feeds = services.store.list_feeds()
    assert [r.status for r in results] == ["error", "error", "new"]
    assert "404" in (results[0].error or "")
    assert "not a feed" in (results[1].error or "")
    assert feeds[0].failure_count == 1 and feeds[0].last_error


async def test_loopback_feeds_are_refused_unless_allowed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    workspace = write_config(tmp_path, urls=[feed_server.url("/rss2.xml")])
    async with open_services(load_settings(workspace.env)) as services:
        results = await refresh_configured(services)
    assert results[0].status == "error"
    assert "127.0.0.1" in (results[0].error or "")
    assert feed_server.hits("/rss2.xml") == []


async def test_local_folder_source(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "one.txt").write_text("date 2026-01-02\nA body. Another sentence.\n", "utf-8")
    workspace = write_config(tmp_path, folders=[folder])
    async with open_services(load_settings(workspace.env)) as services:
        first = await refresh_configured(services)
        second = await refresh_configured(services)
        (folder / "two.md").write_text("# Second\n\nMore text here.\n", "utf-8")
        third = await refresh_configured(services)
    assert (first[0].status, second[0].status) == ("new", "not modified")
    assert (third[0].status, third[0].new_articles, third[0].seen_articles) == ("new", 1, 1)
