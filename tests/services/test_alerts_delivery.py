"""Alerts and channel posts through the outbox: exactly once, capped, digested, recovered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Services, open_services
from bot.config import load_settings
from bot.core.errors import DeliveryError
from bot.services.delivery import DeliveryService, FloodCaps
from tests.conftest import write_config
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.support.sink import RecordingSink

GUILD, ALICE, BOB, CHANNEL, FEED_CHANNEL = 1, 11, 22, 300, 400


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def services(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock, database_url: str
) -> AsyncIterator[Services]:
    workspace = write_config(tmp_path, allow=[feed_server.allow_entry])
    env = {**workspace.env, "NEWSBOT_DATABASE_URL": database_url}
    async with open_services(load_settings(env), clock=clock) as opened:
        yield opened


def sender(
    services: Services, sink: RecordingSink, clock: FakeClock, **caps: int
) -> DeliveryService:
    return DeliveryService(
        services.store, services.summaries, sink, clock, FloodCaps(**caps), alerts=services.alerts
    )


async def poll(services: Services, clock: FakeClock) -> None:
    clock.advance(minutes=11)
    await services.poller.poll_due()


async def follow_and_publish(
    services: Services, feed_server: FeedServer, clock: FakeClock, subject: str, count: int
) -> None:
    """Alice follows ``subject`` by DM; a guild feed then publishes ``count`` stories on it."""
    feed_server.add("/f.xml", rss("Wire", []))
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/f.xml"))
    await services.subscriptions.subscribe(GUILD, ALICE, subject, "dm", CHANNEL)
    items = [story(subject, n, feed_server.base_url) for n in range(count)]
    feed_server.add("/f.xml", rss("Wire", items))
    await poll(services, clock)


async def test_first_poll_posts_nothing_old_then_new_items_alert(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    base = feed_server.base_url
    feed_server.add("/f.xml", rss("Wire", [story("solar", n, base) for n in range(3)]))
    await services.subscriptions.subscribe(GUILD, ALICE, "solar", "dm", CHANNEL)
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/f.xml"), channel_id=FEED_CHANNEL)
    sink = RecordingSink()
    assert await sender(services, sink, clock).deliver_due() == 0
    assert sink.posted == []
    feed_server.add("/f.xml", rss("Wire", [story("solar", n, base) for n in range(4)]))
    await poll(services, clock)
    assert await sender(services, sink, clock).deliver_due() == 2
    [alert] = sink.to("user", ALICE)
    [post] = sink.to("channel", FEED_CHANNEL)
    assert alert.embeds[0]["title"] == story("solar", 3, base)[0]
    assert alert.content == "New story for your subscription #1"
    assert post.embeds[0]["title"] == alert.embeds[0]["title"]


async def test_same_story_in_three_feeds_alerts_once(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    base = feed_server.base_url
    for name in ("a", "b", "c"):
        feed_server.add(f"/{name}.xml", rss(name, []))
        await services.feeds.add_guild_feed(GUILD, feed_server.url(f"/{name}.xml"))
    await services.subscriptions.subscribe(GUILD, ALICE, "volcano", "dm", CHANNEL)
    await services.subscriptions.subscribe(GUILD, ALICE, "volcano eruption OR lava", "dm", CHANNEL)
    title, link, text = story("volcano eruption", 1, base)
    for name, tracking in (("a", "?utm_source=a"), ("b", "?fbclid=b"), ("c", "#top")):
        feed_server.add(f"/{name}.xml", rss(name, [(title, link + tracking, text)]))
    await poll(services, clock)
    sink = RecordingSink()
    await sender(services, sink, clock).deliver_due()
    assert len(sink.to("user", ALICE)) == 1


async def test_two_hundred_matches_are_capped_then_one_digest(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await follow_and_publish(services, feed_server, clock, "election", 200)
    sink = RecordingSink()
    delivery = sender(services, sink, clock, per_user_per_hour=5)
    for _ in range(10):
        await delivery.deliver_due()
    assert len(sink.to("user", ALICE)) == 5
    assert services.store.delivery_statuses() == {"sent": 5, "held": 195}
    clock.advance(minutes=30)
    await delivery.deliver_due()
    assert len(sink.to("user", ALICE)) == 5  # the window has not reopened yet
    clock.advance(minutes=31)
    for _ in range(3):
        await delivery.deliver_due()
    messages = sink.to("user", ALICE)
    assert len(messages) == 6
    digest = messages[-1]
    assert "195" in digest.content
    assert services.store.delivery_statuses() == {"sent": 6, "digested": 195}


async def test_crash_between_send_and_record_does_not_double_post(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await follow_and_publish(services, feed_server, clock, "harvest", 3)
    sink = RecordingSink()
    # The process dies after posting but before recording: claims stay, nothing marked sent.
    claimed = services.store.claim_deliveries(clock.now, 10, clock.advance(minutes=2))
    for delivery in claimed:
        await sink.send("user", ALICE, "", [], delivery.nonce)
    assert len(sink.posted) == 3
    restarted = sender(services, sink, clock)
    assert await restarted.recover() == 3
    await restarted.deliver_due()
    assert len(sink.posted) == 3  # the same nonces: Discord keeps the first messages
    assert services.store.delivery_statuses() == {"sent": 3}


async def test_transient_failures_are_retried_with_backoff(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await follow_and_publish(services, feed_server, clock, "storm", 1)
    sink = RecordingSink(failures={("user", ALICE): DeliveryError("Discord answered 503")})
    delivery = sender(services, sink, clock)
    await delivery.deliver_due()
    await delivery.deliver_due()
    assert services.store.delivery_statuses() == {"pending": 1}
    sink.failures.clear()
    clock.advance(seconds=6)
    assert await delivery.deliver_due() == 1


async def test_permanent_failure_disables_the_subscription_and_tells_the_owner(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    base = feed_server.base_url
    feed_server.add("/f.xml", rss("Wire", []))
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/f.xml"))
    gone = await services.subscriptions.subscribe(GUILD, BOB, "flood", "here", CHANNEL)
    feed_server.add("/f.xml", rss("Wire", [story("flood", n, base) for n in range(2)]))
    await poll(services, clock)
    sink = RecordingSink(
        failures={("channel", CHANNEL): DeliveryError("unknown channel", permanent=True)}
    )
    delivery = sender(services, sink, clock)
    await delivery.deliver_due()
    await delivery.deliver_due()
    [subscription] = await services.subscriptions.list(GUILD, BOB)
    assert not subscription.active
    assert subscription.disabled_reason == "unknown channel"
    [notice] = sink.to("user", BOB)
    assert f"subscription #{gone.id}" in notice.content
    feed_server.add("/f.xml", rss("Wire", [story("flood", n, base) for n in range(3)]))
    await poll(services, clock)
    await delivery.deliver_due()
    assert len(sink.posted) == 1  # a disabled subscription matches nothing more


WIRE = (
    "Rescue teams reached the village of Marrowby on Tuesday after a landslide buried "
    "the main road and cut power to four hundred homes. Regional governor Elise Varga said "
    "no one had been reported missing. Engineers expect the road to reopen by Friday. "
    "Schools in the valley will stay closed until the power lines are repaired."
)
VERSIONS = (
    ("Landslide cuts off Marrowby, rescuers reach village", "/wire/marrowby", WIRE),
    (
        "Marrowby landslide: road buried, power out for 400 homes",
        "/daily/2026/marrowby-landslide",
        WIRE.replace("on Tuesday", "on Tuesday morning"),
    ),
    (
        "Rescuers reach landslide-hit Marrowby",
        "/news/europe/marrowby",
        WIRE.replace("Engineers expect", "Engineers said they expect"),
    ),
)


async def publish(feed_server: FeedServer, services: Services, clock: FakeClock, n: int) -> None:
    """The wire story appears in the first ``n`` of three outlets' feeds."""
    base = feed_server.base_url
    for index, name in enumerate(("wire", "daily", "news")):
        items = [(t, base + link, text) for t, link, text in VERSIONS[: index + 1]][index:]
        feed_server.add(f"/{name}.xml", rss(name.title(), items if index < n else []))
    await poll(services, clock)


async def add_outlets(services: Services, feed_server: FeedServer) -> None:
    for name in ("wire", "daily", "news"):
        feed_server.add(f"/{name}.xml", rss(name.title(), []))
        await services.feeds.add_guild_feed(GUILD, feed_server.url(f"/{name}.xml"))


async def test_one_story_told_by_three_outlets_alerts_once(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await add_outlets(services, feed_server)
    await services.subscriptions.subscribe(GUILD, ALICE, "landslide", "dm", CHANNEL)
    await publish(feed_server, services, clock, 3)
    sink = RecordingSink()
    await sender(services, sink, clock).deliver_due()
    [alert] = sink.to("user", ALICE)
    assert "also reported by" in alert.embeds[0]["description"]
    assert services.store.stats().articles == 3


async def test_breaking_mode_waits_for_enough_sources(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await add_outlets(services, feed_server)
    await services.subscriptions.subscribe(
        GUILD, ALICE, "landslide", "dm", CHANNEL, breaking_sources=3, breaking_minutes=60
    )
    await services.subscriptions.subscribe(GUILD, BOB, "landslide", "dm", CHANNEL)
    sink = RecordingSink()
    delivery = sender(services, sink, clock)
    await publish(feed_server, services, clock, 1)
    await delivery.deliver_due()
    assert (len(sink.to("user", ALICE)), len(sink.to("user", BOB))) == (0, 1)
    await publish(feed_server, services, clock, 2)
    await delivery.deliver_due()
    assert len(sink.to("user", ALICE)) == 0  # two sources: not yet
    await publish(feed_server, services, clock, 3)
    await delivery.deliver_due()
    [breaking] = sink.to("user", ALICE)
    assert "Marrowby" in breaking.embeds[0]["title"]
    assert len(sink.to("user", BOB)) == 1  # the story still alerts a normal subscriber once


async def test_breaking_mode_ignores_sources_outside_the_window(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    await add_outlets(services, feed_server)
    await services.subscriptions.subscribe(
        GUILD, ALICE, "landslide", "dm", CHANNEL, breaking_sources=2, breaking_minutes=15
    )
    sink = RecordingSink()
    await publish(feed_server, services, clock, 1)
    clock.advance(minutes=30)
    await publish(feed_server, services, clock, 2)  # the second source, 41 minutes later
    await sender(services, sink, clock).deliver_due()
    assert sink.to("user", ALICE) == []


async def test_a_channel_that_refuses_feed_posts_pauses_the_feed_and_tells_its_adder_once(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    base = feed_server.base_url
    feed_server.add("/f.xml", rss("Wire", []))
    added = await services.feeds.add_guild_feed(
        GUILD, feed_server.url("/f.xml"), channel_id=FEED_CHANNEL, created_by=ALICE
    )
    feed_server.add("/f.xml", rss("Wire", [story("quake", n, base) for n in range(3)]))
    await poll(services, clock)
    refused = DeliveryError("Discord refused: missing permissions", permanent=True)
    sink = RecordingSink(failures={("channel", FEED_CHANNEL): refused})
    delivery = sender(services, sink, clock)
    await delivery.deliver_due()
    await delivery.deliver_due()
    feed = services.store.get_feed(added.feed.id)
    assert feed is not None and feed.paused
    assert "missing permissions" in (feed.paused_reason or "")
    [notice] = sink.to("user", ALICE)  # three refused posts, one notice
    assert f"/feeds resume feed:{feed.id}" in notice.content
    assert f"<#{FEED_CHANNEL}>" in notice.content
    feed_server.add("/f.xml", rss("Wire", [story("quake", n, base) for n in range(5)]))
    polled = len(feed_server.hits("/f.xml"))
    await poll(services, clock)
    await poll(services, clock)
    assert len(feed_server.hits("/f.xml")) == polled  # paused: not polled
    sink.failures.clear()
    await services.feeds.resume_guild_feed(GUILD, feed.id, clock())
    await poll(services, clock)
    await delivery.deliver_due()
    assert len(sink.to("channel", FEED_CHANNEL)) == 2  # the two stories that came later


async def test_a_channel_that_refuses_its_briefing_stops_the_schedule_and_tells_its_creator(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    await services.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
    due = clock() + timedelta(minutes=5)
    made = await services.schedules.add(GUILD, CHANNEL, f"{due:%H:%M}", created_by=BOB)
    clock.advance(minutes=6)
    [run] = await services.briefing_scheduler.run_due()
    assert run.outcome == "posted"
    gone = DeliveryError("Discord refused: unknown channel", permanent=True)
    sink = RecordingSink(failures={("channel", CHANNEL): gone})
    delivery = sender(services, sink, clock)
    await delivery.deliver_due()
    await delivery.deliver_due()
    [schedule] = await services.schedules.list(GUILD)
    assert schedule.id == made.id and not schedule.active
    assert "unknown channel" in (schedule.disabled_reason or "")
    [notice] = sink.to("user", BOB)
    assert f"scheduled briefing #{made.id}" in notice.content
    clock.advance(days=1)
    assert await services.briefing_scheduler.run_due() == []  # stopped: never runs again


async def test_full_text_feeds_alert_on_the_article_page_words(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    """Words only on the article page match: the feed teaser's precomputed match tokens are
    not used for the page's text."""
    feed_server.add("/teaser.xml", rss("Wine", []))
    url = feed_server.url("/teaser.xml")
    services.store.add_feed(url, None, guild_id=GUILD, extract_full_text=True)
    await services.subscriptions.subscribe(GUILD, ALICE, "varieties", "dm", CHANNEL)
    await services.subscriptions.subscribe(GUILD, BOB, "read", "dm", CHANNEL)
    await poll(services, clock)
    feed_server.add_fixture("/teaser.xml", "feeds/teaser.xml")
    feed_server.add_fixture("/pages/harvest.html", "pages/harvest.html")
    await poll(services, clock)
    sink = RecordingSink()
    await sender(services, sink, clock).deliver_due()
    [alert] = sink.to("user", ALICE)
    assert alert.embeds[0]["title"] == "Vineyards report early harvest after hot summer"
    # "Read more..." is in both teasers; only the cellar tour's (its page is missing) stays
    [teaser_alert] = sink.to("user", BOB)
    assert teaser_alert.embeds[0]["title"] == "Cellar tours resume this weekend"
