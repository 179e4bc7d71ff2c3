"""Retention: old feed items are not stored, stored articles leave after ``retention.days``."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from bot.app import build_jobs, open_services, refresh_configured
from bot.config import load_settings
from bot.services.delivery import DeliveryService, FloodCaps
from tests.conftest import write_config
from tests.support.clock import FakeClock
from tests.support.feed_server import FeedServer
from tests.support.sink import RecordingSink


def feed_with_ages(items: dict[str, timedelta], now: datetime) -> str:
    """RSS whose items (title -> age) were published that long before ``now``."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{{base}}/{number}</link>"
        f"<pubDate>{format_datetime(now - age, usegmt=True)}</pubDate>"
        f"<description>{escape(title)}, told at length.</description></item>"
        for number, (title, age) in enumerate(items.items())
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )


def titles(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return sorted(row[0] for row in connection.execute("SELECT title FROM articles"))


async def test_items_past_retention_are_not_stored_and_stored_ones_are_pruned(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FakeClock(now)
    ages = {"Fresh harvest": timedelta(days=1), "Stale harvest": timedelta(days=45)}
    feed_server.add("/r.xml", feed_with_ages(ages, now))
    workspace = write_config(
        tmp_path,
        urls=[feed_server.url("/r.xml")],
        allow=[feed_server.allow_entry],
        extra="[retention]\ndays = 30",
    )
    async with open_services(load_settings(workspace.env), clock=clock) as services:
        [result] = await refresh_configured(services)
        assert (result.new_articles, titles(workspace.database)) == (1, ["Fresh harvest"])
        assert await services.retention.prune() == 0
        clock.advance(days=31)  # the fresh item is now 32 days old, and seen 31 days ago
        assert await services.retention.prune() == 1
        assert titles(workspace.database) == []
        assert await services.search.search("harvest") == []


async def test_retention_runs_as_a_periodic_job(tmp_path: Path) -> None:
    workspace = write_config(tmp_path, extra="[retention]\ndays = 7")
    settings = load_settings(workspace.env)
    assert settings.retention.days == 7
    async with open_services(settings) as services:
        delivery = DeliveryService(
            services.store, services.summaries, RecordingSink(), services.clock, FloodCaps()
        )
        jobs = build_jobs(settings, services, delivery)
        intervals = {job.name: job.trigger.interval for job in jobs.scheduler.get_jobs()}
    assert intervals["newsbot:retention"] == timedelta(hours=1)
    assert services.retention.keep == timedelta(days=7)
