"""Scheduled briefings: local time across DST, once per run, missed runs within grace."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Services, open_services
from bot.config import load_settings
from bot.core.models import Schedule
from bot.services.scheduling import occurrences
from tests.conftest import write_config
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer

GUILD, CHANNEL, ADMIN = 1, 500, 9


def schedule(
    time_of_day: str, zone: str, days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
) -> Schedule:
    return Schedule(
        id=1,
        guild_id=GUILD,
        channel_id=CHANNEL,
        time_of_day=time_of_day,
        timezone=zone,
        days=days,
        topic=None,
        created_by=ADMIN,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_eight_o_clock_stays_eight_o_clock_across_daylight_saving() -> None:
    berlin = schedule("08:00", "Europe/Berlin")
    runs = occurrences(
        berlin, datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC)
    )
    # CET (UTC+1) until Sunday 29 March 2026, CEST (UTC+2) after
    assert [run.isoformat() for run in runs] == [
        "2026-03-28T07:00:00+00:00",
        "2026-03-29T06:00:00+00:00",
        "2026-03-30T06:00:00+00:00",
        "2026-03-31T06:00:00+00:00",
    ]
    autumn = occurrences(
        schedule("08:00", "America/New_York"),
        datetime(2026, 10, 31, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 0, tzinfo=UTC),
    )
    assert [run.hour for run in autumn] == [12, 13, 13]  # EDT, then EST from 1 November


def test_weekdays_only_and_window_bounds() -> None:
    weekdays = schedule("18:30", "UTC", days=(1, 2, 3, 4, 5))
    runs = occurrences(
        weekdays,
        datetime(2026, 11, 20, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 24, 18, 30, tzinfo=UTC),
    )
    # after Friday's run (exclusive) up to Tuesday's (inclusive): Monday and Tuesday
    assert [run.date().isoformat() for run in runs] == ["2026-11-23", "2026-11-24"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # a Monday


async def _services(tmp_path: Path, feed_server: FeedServer, clock: FakeClock, extra: str = ""):
    workspace = write_config(tmp_path, allow=[feed_server.allow_entry], extra=extra)
    return open_services(load_settings(workspace.env), clock=clock)


@pytest.fixture
async def services(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock
) -> AsyncIterator[Services]:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    async with await _services(tmp_path, feed_server, clock) as opened:
        await opened.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
        yield opened


def briefings_enqueued(services: Services) -> list[dict]:
    claimed = services.store.claim_deliveries(
        datetime(2100, 1, 1, tzinfo=UTC), 100, datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [json.loads(d.payload or "{}") for d in claimed if d.kind == "briefing"]


async def test_a_run_is_posted_once_and_only_new_stories_are_briefed(
    services: Services, clock: FakeClock
) -> None:
    await services.schedules.add(GUILD, CHANNEL, "08:00", timezone="UTC", created_by=ADMIN)
    assert await services.briefing_scheduler.run_due() == []  # 07:00: not yet
    clock.set(datetime(2026, 11, 23, 8, 0, 30, tzinfo=UTC))
    [run] = await services.briefing_scheduler.run_due()
    assert run.outcome == "posted"
    assert await services.briefing_scheduler.run_due() == []  # never twice
    clock.set(datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC))
    [second] = await services.briefing_scheduler.run_due()
    assert second.outcome == "empty"  # the same two stories were briefed yesterday
    first_page, empty_page = briefings_enqueued(services)
    assert len(first_page["pages"][0]["embeds"]) == 2
    assert empty_page["pages"] == [
        {"content": "No new stories since the last briefing.", "embeds": []}
    ]


async def test_missed_run_within_grace_is_posted_once_after_restart(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock
) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    async with await _services(tmp_path, feed_server, clock) as first_life:
        await first_life.feeds.add_guild_feed(GUILD, feed_server.url("/rss2.xml"))
        await first_life.schedules.add(GUILD, CHANNEL, "08:00", created_by=ADMIN)
    clock.set(datetime(2026, 11, 23, 8, 40, tzinfo=UTC))  # down from 07:00 to 08:40
    async with await _services(tmp_path, feed_server, clock) as second_life:
        [run] = await second_life.briefing_scheduler.run_due()
        assert (run.outcome, run.due.hour) == ("posted", 8)
    async with await _services(tmp_path, feed_server, clock) as third_life:
        assert await third_life.briefing_scheduler.run_due() == []
        assert len(briefings_enqueued(third_life)) == 1


async def test_missed_run_beyond_grace_is_skipped_and_logged(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await services.schedules.add(GUILD, CHANNEL, "08:00", created_by=ADMIN)
    clock.set(datetime(2026, 11, 23, 10, 30, tzinfo=UTC))  # grace is 60 minutes
    [run] = await services.briefing_scheduler.run_due()
    assert run.outcome == "skipped"
    assert "skipped briefing" in caplog.text
    assert briefings_enqueued(services) == []
    clock.set(datetime(2026, 11, 24, 8, 1, tzinfo=UTC))
    [next_day] = await services.briefing_scheduler.run_due()
    assert next_day.outcome == "empty"  # runs again on time (nothing new: it says so)
    assert len(briefings_enqueued(services)) == 1


async def test_silent_when_configured_and_nothing_new(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock
) -> None:
    async with await _services(
        tmp_path, feed_server, clock, extra="[briefing]\nannounce_empty = false"
    ) as services:
        await services.schedules.add(GUILD, CHANNEL, "08:00", topic="volcano", created_by=ADMIN)
        clock.set(datetime(2026, 11, 23, 8, 1, tzinfo=UTC))
        [run] = await services.briefing_scheduler.run_due()
        assert run.outcome == "empty"
        assert briefings_enqueued(services) == []
