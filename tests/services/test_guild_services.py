"""Per-guild services on real SQLite: guild feeds and OPML, subscriptions, schedules, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Services, open_services
from bot.config import load_settings
from bot.core.errors import ParseError, QueryError, ValidationError
from tests.conftest import write_config
from tests.support.feed_server import FeedServer

GUILD, OTHER_GUILD, ALICE, BOB, CHANNEL = 101, 202, 11, 22, 5001


@pytest.fixture
async def services(tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[Services]:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    feed_server.add_fixture("/atom.xml", "feeds/atom.xml")
    workspace = write_config(
        tmp_path,
        allow=[feed_server.allow_entry],
        extra="[limits]\nfeeds_per_guild = 2\nschedules_per_guild = 2\nsubscriptions_per_user = 2",
    )
    async with open_services(load_settings(workspace.env)) as opened:
        yield opened


async def test_guild_feed_lifecycle(services: Services, feed_server: FeedServer) -> None:
    added = await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"), channel_id=9)
    assert added.feed.name == "Harbor Gazette"  # named after the feed's own title
    assert added.refresh.new_articles == 2
    assert added.feed.channel_id == 9 and added.feed.guild_id == GUILD
    with pytest.raises(ValidationError, match="already follows"):
        await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
    assert [f.id for f in await services.feeds.guild_feeds(OTHER_GUILD)] == []
    with pytest.raises(ValidationError, match="no feed"):
        await services.feeds.remove_guild_feed(OTHER_GUILD, added.feed.id)
    removed = await services.feeds.remove_guild_feed(GUILD, added.feed.id)
    assert removed.id == added.feed.id
    assert await services.feeds.guild_feeds(GUILD) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", r"not an http\(s\) URL"),
        ("ftp://files.example/feed", r"not an http\(s\) URL"),
        ("https://news.example/" + "a" * 2100, "longer than 2048"),
    ],
)
async def test_bad_feed_urls_are_refused(services: Services, url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await services.feeds.add_guild_feed(GUILD, url)


async def test_failing_feed_is_not_added(services: Services, feed_server: FeedServer) -> None:
    with pytest.raises(ValidationError, match=r"could not add .*404"):
        await services.feeds.add_guild_feed(GUILD, feed_server.url("/nothing.xml"))
    with pytest.raises(ValidationError, match="could not add"):
        await services.feeds.add_guild_feed(GUILD, "http://127.0.0.1:9/feed")
    assert await services.feeds.guild_feeds(GUILD) == []


async def test_feed_cap_per_guild(services: Services, feed_server: FeedServer) -> None:
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/atom.xml"))
    feed_server.add_fixture("/feed.json", "feeds/feed.json")
    with pytest.raises(ValidationError, match="already has 2 feeds"):
        await services.feeds.add_guild_feed(GUILD, feed_server.url("/feed.json"))
    assert (await services.feeds.add_guild_feed(OTHER_GUILD, feed_server.url("/feed.json"))).feed


async def test_opml_round_trip(services: Services, feed_server: FeedServer) -> None:
    opml = f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY x "boom">]>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="News"><outline text="Gazette &amp; Co" xmlUrl="{feed_server.url("/rss2.xml")}"/>
  <outline text="Broken" xmlUrl="{feed_server.url("/gone.xml")}"/></outline>
  <outline text="Ocean" xmlUrl="{feed_server.url("/atom.xml")}"/>
</body></opml>""".encode()
    report = await services.feeds.import_opml(GUILD, opml)
    assert [a.feed.name for a in report.added] == ["Gazette & Co", "Ocean"]
    assert [url for url, _ in report.failed] == [feed_server.url("/gone.xml")]
    exported = await services.feeds.export_opml(GUILD)
    assert b'title="Gazette &amp; Co"' in exported
    assert exported.count(b"<outline ") == 2
    again = await services.feeds.import_opml(OTHER_GUILD, exported)
    assert len(again.added) == 2
    with pytest.raises(ParseError):
        await services.feeds.import_opml(GUILD, b"<html>no</html>")
    with pytest.raises(ValidationError, match="lists no feeds"):
        await services.feeds.import_opml(GUILD, b"<opml><body/></opml>")


async def test_subscriptions_are_validated_and_private(services: Services) -> None:
    first = await services.subscriptions.subscribe(GUILD, ALICE, "Sanctions  iran", "dm", CHANNEL)
    assert first.channel_id is None and first.delivery == "dm"
    here = await services.subscriptions.subscribe(GUILD, ALICE, '"solar farm"', "here", CHANNEL)
    assert here.channel_id == CHANNEL
    with pytest.raises(ValidationError, match="already have 2"):
        await services.subscriptions.subscribe(GUILD, ALICE, "rail", "dm", CHANNEL)
    with pytest.raises(QueryError):
        await services.subscriptions.subscribe(GUILD, BOB, "(unbalanced", "dm", CHANNEL)
    with pytest.raises(ValidationError, match="delivery"):
        await services.subscriptions.subscribe(GUILD, BOB, "rail", "pigeon", CHANNEL)
    assert [s.id for s in await services.subscriptions.list(GUILD, ALICE)] == [first.id, here.id]
    assert await services.subscriptions.list(GUILD, BOB) == []
    with pytest.raises(ValidationError, match="no subscription"):
        await services.subscriptions.unsubscribe(GUILD, BOB, first.id)
    await services.subscriptions.unsubscribe(GUILD, ALICE, first.id)
    assert [s.id for s in await services.subscriptions.list(GUILD, ALICE)] == [here.id]


async def test_duplicate_subscription_is_refused(services: Services) -> None:
    await services.subscriptions.subscribe(GUILD, ALICE, "iran sanctions", "dm", CHANNEL)
    with pytest.raises(ValidationError, match="already follow"):
        await services.subscriptions.subscribe(GUILD, ALICE, "sanctions iran", "dm", CHANNEL)


async def test_schedules(services: Services) -> None:
    morning = await services.schedules.add(
        GUILD, CHANNEL, "8am", timezone="Europe/Berlin", days="weekdays", created_by=ALICE
    )
    assert (morning.time_of_day, morning.timezone, morning.days) == (
        "08:00",
        "Europe/Berlin",
        (1, 2, 3, 4, 5),
    )
    evening = await services.schedules.add(
        GUILD, CHANNEL, "18:30", days="sat,sun", topic="football", created_by=ALICE
    )
    assert evening.timezone == "UTC" and evening.topic == "football"
    with pytest.raises(ValidationError, match="already has 2 schedules"):
        await services.schedules.add(GUILD, CHANNEL, "09:00", created_by=ALICE)
    for bad, message in [
        ({"time_of_day": "25:00"}, "not a time"),
        ({"time_of_day": "08:00", "timezone": "Mars/Olympus"}, "not a known timezone"),
        ({"time_of_day": "08:00", "days": "someday"}, "unknown day"),
    ]:
        with pytest.raises(ValidationError, match=message):
            await services.schedules.add(OTHER_GUILD, CHANNEL, created_by=BOB, **bad)
    await services.schedules.remove(GUILD, morning.id)
    with pytest.raises(ValidationError, match="no schedule"):
        await services.schedules.remove(OTHER_GUILD, evening.id)
    assert [s.id for s in await services.schedules.list(GUILD)] == [evening.id]


async def test_leaving_a_guild_forgets_its_data(
    services: Services, feed_server: FeedServer
) -> None:
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
    await services.subscriptions.subscribe(GUILD, ALICE, "rail", "dm", CHANNEL)
    await services.schedules.add(GUILD, CHANNEL, "08:00", created_by=ALICE)
    await services.subscriptions.subscribe(OTHER_GUILD, ALICE, "rail", "dm", CHANNEL)
    services.store.delete_guild(GUILD)
    assert await services.feeds.guild_feeds(GUILD) == []
    assert await services.subscriptions.list(GUILD, ALICE) == []
    assert await services.schedules.list(GUILD) == []
    assert len(await services.subscriptions.list(OTHER_GUILD, ALICE)) == 1
    assert services.store.stats().articles == 2  # articles are shared and stay


async def test_status_counts(services: Services, feed_server: FeedServer) -> None:
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
    status = await services.status.status()
    assert (status.feeds, status.articles) == (1, 2)
    assert status.last_refresh_at is not None
    assert status.uptime.total_seconds() >= 0
