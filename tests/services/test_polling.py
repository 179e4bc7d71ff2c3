"""Polling by due time: intervals, server hints, backoff, pausing, and one fault per feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Services, open_services
from bot.config import load_settings
from bot.core.models import Feed, FeedRefresh, PollHints
from bot.services.polling import PollPolicy, plan_next_poll
from tests.conftest import write_config
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.hostile_server import HostileServer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(
    interval_minutes=10, min_interval_minutes=5, max_interval_minutes=1440, pause_after_hours=48
)
FEED = Feed(id=1, url="https://news.example/rss", name="News")


def ok(**hints: int) -> FeedRefresh:
    return FeedRefresh(feed=FEED, status="seen", hints=PollHints(**hints))


def failed(status: int | None = 500, retry_after: float | None = None) -> FeedRefresh:
    return FeedRefresh(
        feed=FEED,
        status="error",
        error=f"HTTP {status}",
        hints=PollHints(http_status=status, retry_after=retry_after),
    )


@pytest.mark.parametrize(
    ("feed", "refresh", "wait"),
    [
        (FEED, ok(), timedelta(minutes=10)),
        (replace(FEED, interval_minutes=1), ok(), timedelta(minutes=5)),  # clamped up
        (replace(FEED, interval_minutes=5000), ok(), timedelta(minutes=1440)),  # clamped down
        (FEED, ok(ttl_minutes=60), timedelta(minutes=60)),
        (FEED, ok(ttl_minutes=1), timedelta(minutes=10)),  # ttl never shortens
        (FEED, ok(max_age=1800), timedelta(minutes=30)),
        (FEED, ok(max_age=10**8), timedelta(minutes=1440)),
        (replace(FEED, ttl_minutes=90), ok(), timedelta(minutes=90)),  # remembered ttl on a 304
    ],
)
def test_success_interval(feed: Feed, refresh: FeedRefresh, wait: timedelta) -> None:
    plan = plan_next_poll(feed, refresh, NOW, POLICY)
    assert plan.pause_reason is None
    assert plan.at - NOW == wait


def test_failures_back_off_exponentially_up_to_a_day() -> None:
    waits = []
    for failures in range(1, 13):
        feed = replace(FEED, failure_count=failures, failing_since=NOW - timedelta(hours=1))
        waits.append(plan_next_poll(feed, failed(), NOW, POLICY).at - NOW)
    assert waits[:4] == [timedelta(minutes=m) for m in (20, 40, 80, 160)]
    assert waits[-1] == timedelta(days=1)
    assert waits == sorted(waits)


def test_retry_after_is_honoured_but_never_shortens_backoff() -> None:
    plan = plan_next_poll(FEED, failed(429, retry_after=7200), NOW, POLICY)
    assert plan.at - NOW == timedelta(hours=2)
    plan = plan_next_poll(FEED, failed(503, retry_after=1), NOW, POLICY)
    assert plan.at - NOW == timedelta(minutes=20)


def test_gone_pauses_at_once_and_long_failure_pauses() -> None:
    assert "410" in (plan_next_poll(FEED, failed(410), NOW, POLICY).pause_reason or "")
    young = replace(FEED, failure_count=3, failing_since=NOW - timedelta(hours=47))
    assert plan_next_poll(young, failed(), NOW, POLICY).pause_reason is None
    old = replace(FEED, failure_count=30, failing_since=NOW - timedelta(hours=49))
    reason = plan_next_poll(old, failed(), NOW, POLICY).pause_reason
    assert reason is not None
    assert "failed for 49 hours" in reason


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def services(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock, database_url: str
) -> AsyncIterator[Services]:
    workspace = write_config(
        tmp_path, allow=[feed_server.allow_entry], extra="[poll]\npause_after_hours = 1"
    )
    env = {**workspace.env, "NEWSBOT_DATABASE_URL": database_url}
    async with open_services(load_settings(env), clock=clock) as opened:
        yield opened


async def test_a_feed_a_guild_adds_is_fetched_once_then_polled_after_its_interval(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/a.xml", "feeds/rss1.xml")  # no <ttl>: the default interval
    added_at = clock()
    added = await services.feeds.add_guild_feed(1, feed_server.url("/a.xml"))
    assert await services.poller.poll_due() == []  # the add fetched it: not the poller too
    assert len(feed_server.hits("/a.xml")) == 1
    assert added.feed.next_poll_at == added_at + timedelta(minutes=10)
    clock.advance(minutes=11)
    [polled] = await services.poller.poll_due()
    assert polled.status == "not modified"
    assert len(feed_server.hits("/a.xml")) == 2


async def test_a_feed_added_while_a_poll_runs_is_fetched_once(
    services: Services, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/a.xml", "feeds/rss2.xml")
    add = asyncio.create_task(services.feeds.add_guild_feed(1, feed_server.url("/a.xml")))
    polled: list[FeedRefresh] = []
    while not add.done():  # poll rounds run beside the add, as the scheduler's would
        polled += await services.poller.poll_due()
        await asyncio.sleep(0)
    await add
    assert polled == []
    assert len(feed_server.hits("/a.xml")) == 1


async def test_only_due_feeds_are_polled(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/a.xml", "feeds/rss2.xml", headers={"Cache-Control": "max-age=1800"})
    feed_server.add_fixture("/b.xml", "feeds/rss1.xml")
    await services.feeds.add_guild_feed(1, feed_server.url("/a.xml"))
    await services.feeds.add_guild_feed(1, feed_server.url("/b.xml"), interval_minutes=5)
    assert await services.poller.poll_due() == []  # both fetched when added
    clock.advance(minutes=6)
    due = await services.poller.poll_due()
    assert [(r.feed.url, r.status) for r in due] == [(feed_server.url("/b.xml"), "not modified")]
    clock.advance(minutes=25)
    assert sorted(r.feed.url for r in await services.poller.poll_due()) == [
        feed_server.url("/a.xml"),
        feed_server.url("/b.xml"),
    ]


async def test_an_unchanged_feed_is_recorded_with_its_next_poll(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/a.xml", "feeds/rss1.xml")  # no <ttl>: the default interval
    added = await services.feeds.add_guild_feed(1, feed_server.url("/a.xml"))
    clock.advance(minutes=11)
    polled_at = clock()
    [result] = await services.poller.poll_due()
    assert result.status == "not modified" and result.unrecorded is not None
    assert feed_server.hits("/a.xml")[-1].status == 304
    feed = services.store.get_feed(added.feed.id)
    assert feed is not None
    assert feed.last_success_at == polled_at and feed.etag == result.unrecorded.etag
    assert feed.next_poll_at == polled_at + timedelta(minutes=10)


async def test_a_feed_whose_plan_fails_still_lets_its_batch_be_recorded(
    services: Services, feed_server: FeedServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_server.add_fixture("/a.xml", "feeds/rss2.xml")
    feed_server.add_fixture("/b.xml", "feeds/rss1.xml")
    broken = await services.feeds.add_guild_feed(1, feed_server.url("/a.xml"))
    healthy = await services.feeds.add_guild_feed(1, feed_server.url("/b.xml"))
    planned = plan_next_poll

    def plan_or_crash(feed: Feed, *args: object) -> object:
        if feed.id == broken.feed.id:
            raise RuntimeError("a bug in one feed's plan")
        return planned(feed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("bot.services.polling.plan_next_poll", plan_or_crash)
    clock.advance(minutes=31)  # past rss2.xml's <ttl> of 30 minutes
    polled_at = clock()
    assert len(await services.poller.poll_due()) == 2
    for added in (broken, healthy):
        feed = services.store.get_feed(added.feed.id)
        assert feed is not None
        assert feed.next_poll_at == polled_at + timedelta(minutes=10)
        assert feed.last_success_at == polled_at


async def test_a_failing_feed_backs_off_then_pauses_with_one_notice(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/flaky.xml", "feeds/rss2.xml")
    added = await services.feeds.add_guild_feed(7, feed_server.url("/flaky.xml"), channel_id=70)
    feed_server.add("/flaky.xml", "oops", "text/plain", status=500)
    clock.advance(minutes=31)  # past rss2.xml's <ttl> of 30 minutes
    [failure] = await services.poller.poll_due()
    assert failure.status == "error"
    feed = services.store.get_feed(added.feed.id)
    assert feed is not None
    assert feed.next_poll_at == clock.now + timedelta(minutes=20)
    clock.advance(hours=2)  # past pause_after_hours = 1
    [failure] = await services.poller.poll_due()
    paused = services.store.get_feed(added.feed.id)
    assert paused is not None
    assert paused.paused
    assert "failed for 2 hours" in (paused.paused_reason or "")
    clock.advance(days=3)
    assert await services.poller.poll_due() == []  # paused feeds are not polled
    assert services.store.delivery_statuses() == {"pending": 1}  # told once, in its channel
    await services.feeds.resume_guild_feed(7, added.feed.id, clock.now)
    feed_server.add_fixture("/flaky.xml", "feeds/rss2.xml")
    [back] = await services.poller.poll_due()
    assert back.status in ("seen", "not modified")


async def test_gone_feed_is_paused_at_once(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/old.xml", "feeds/rss2.xml")
    added = await services.feeds.add_guild_feed(7, feed_server.url("/old.xml"))
    feed_server.add("/old.xml", "gone", "text/plain", status=410)
    clock.advance(minutes=31)  # past rss2.xml's <ttl> of 30 minutes
    await services.poller.poll_due()
    feed = services.store.get_feed(added.feed.id)
    assert feed is not None
    assert feed.paused
    assert "410" in (feed.paused_reason or "")


async def test_one_slow_feed_does_not_delay_the_others(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_fixture("/fast.xml", "feeds/rss2.xml")
    async with HostileServer() as hostile:
        workspace = write_config(
            tmp_path, allow=[feed_server.allow_entry, hostile.endpoint], deadline=3.0
        )
        async with open_services(load_settings(workspace.env)) as services:
            services.store.add_feed(hostile.url("/drip?interval=0.2"), None, guild_id=1)
            services.store.add_feed(feed_server.url("/fast.xml"), None, guild_id=1)
            polling = asyncio.create_task(services.poller.poll_due())
            for _ in range(100):
                if services.store.stats().articles:
                    break
                await asyncio.sleep(0.05)
            assert services.store.stats().articles == 2  # the fast feed is already stored
            assert not polling.done()  # while the slow one is still dripping
            slow, fast = await polling
    assert (fast.status, slow.status) == ("new", "error")
    assert "deadline" in (slow.error or "") or "took too long" in (slow.error or "")
