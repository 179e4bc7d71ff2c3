"""The two text attacks of issue 12, served as feed items and as a page, through real
services, parser workers, SQLite and a loopback server: the console keeps answering."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import open_services, refresh_configured
from bot.config import load_settings
from bot.transports.console import ConsoleChannel
from tests.conftest import write_config
from tests.support.feed_server import FeedServer
from tests.support.hostile_feeds import item, rss

pytestmark = pytest.mark.slow

MANY_SENTENCES = "Go now. " * 14_000
"""14,000 short sentences (112 KB): a 14,000 x 14,000 similarity matrix before the caps."""
BYLINE = "By " + "Aand" * 26 + "A!"
"""Exponential in the old byline patterns: past 120 s at 26 repeats."""
MAX_RSS_BYTES = 300 * 1024 * 1024
"""The bot's bound, checked on the real `newsbot run` process in the Discord test."""
MAX_RSS_GROWTH = 100 * 1024 * 1024
"""What the attacks may add to this process (the old summariser asked for 7.8 GB): this
pytest process holds the whole suite besides, so its own size says nothing of the bot's."""


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_attacks_as_feed_items_and_a_page_leave_brief_answering(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/calm.xml", rss(item("Harbour bridge opens", "bridge")))
    attacks = item("Many sentences", "many", MANY_SENTENCES) + item("Byline", "byline", BYLINE)
    feed_server.add("/hostile.xml", rss(attacks))
    page = f"<html><body><article><p>{BYLINE}</p><p>{MANY_SENTENCES}</p></article></body></html>"
    feed_server.add("/page.html", page, "text/html; charset=utf-8")
    urls = [feed_server.url("/calm.xml"), feed_server.url("/hostile.xml")]
    workspace = write_config(tmp_path, urls=urls, allow=[feed_server.allow_entry])
    before = rss_bytes()
    async with open_services(load_settings(workspace.env)) as services:
        channel = ConsoleChannel(services.briefings, services.search, services.summaries)
        await refresh_configured(services, (urls[0],))
        assert "Harbour bridge opens" in await channel.handle("/brief")  # workers started
        await refresh_configured(services, (urls[1],))

        started = time.monotonic()
        answer = await channel.handle("/brief")
        assert time.monotonic() - started < 1.0
        assert "Harbour bridge opens" in answer and "Many sentences" in answer
        assert "failed unexpectedly" not in answer

        summary = await channel.handle(f"/summarize {feed_server.url('/page.html')}")
        assert not summary.startswith("/summarize")  # summarised (or its lead), not an error
        started = time.monotonic()
        assert (await channel.handle("/brief")).startswith("Briefing")
        assert time.monotonic() - started < 1.0
    assert rss_bytes() - before < MAX_RSS_GROWTH
