"""Every console command end to end, on real services, SQLite and a loopback server."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Services, open_services, refresh_configured
from bot.config import load_settings
from bot.transports.console import ConsoleChannel
from tests.conftest import REPO, write_config
from tests.support.feed_server import FeedServer


@pytest.fixture
async def channel(tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[ConsoleChannel]:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    feed_server.add_fixture("/rss1.xml", "feeds/rss1.xml")
    feed_server.add_fixture("/pages/harvest.html", "pages/harvest.html")
    workspace = write_config(
        tmp_path,
        urls=[feed_server.url("/rss2.xml"), feed_server.url("/rss1.xml")],
        folders=[REPO / "seeds"],
        allow=[feed_server.allow_entry],
    )
    async with open_services(load_settings(workspace.env)) as services:
        await refresh_configured(services)
        yield _channel(services)


def _channel(services: Services) -> ConsoleChannel:
    return ConsoleChannel(services.briefings, services.search, services.summaries)


async def test_brief_lists_recent_stories_with_summaries(channel: ConsoleChannel) -> None:
    answer = await channel.handle("/brief")
    assert answer.startswith("Briefing: 3 stories, last 24 hours")
    assert "Harbor city opens floating solar farm" in answer
    assert "Central bank holds interest rates steady" in answer
    assert "U.S. forces" not in answer  # the 2021 seed is outside the window
    assert "via Harbor Gazette · 3 of 8 sentences" in answer
    assert answer.count("solar farm") >= 1
    assert "utm_source" not in answer


async def test_brief_with_topic_and_hours(channel: ConsoleChannel) -> None:
    answer = await channel.handle("/brief interest rates 48")
    assert "last 2 days" in answer
    assert "Central bank holds interest rates steady" in answer
    assert "solar" not in answer


async def test_brief_falls_back_to_the_latest_when_the_window_is_empty(
    channel: ConsoleChannel,
) -> None:
    answer = await channel.handle("/brief airstrikes 1")
    assert answer.startswith("Nothing new about “airstrikes” in the last 1 hour")
    assert "U.S. forces conducted airstrikes" in answer


async def test_latest_with_source_and_count(channel: ConsoleChannel) -> None:
    answer = await channel.handle("/latest 2")
    assert answer.count("\n- ") + answer.startswith("- ") == 2
    seeds = await channel.handle("/latest seeds 5")
    assert seeds.startswith("- U.S. forces conducted airstrikes")
    assert seeds.count("- ") == 1


async def test_search_ranks_and_highlights(channel: ConsoleChannel) -> None:
    answer = await channel.handle("/search strike pay")
    assert answer.splitlines()[0] == "1 result for “strike pay”:"
    assert "Northern rail strike ends after pay deal" in answer
    assert "*strike*" in answer
    assert (await channel.handle("/search zeppelins")) == "No articles match “zeppelins”."


async def test_summarize_a_page(channel: ConsoleChannel, feed_server: FeedServer) -> None:
    answer = await channel.handle(f"/summarize {feed_server.url('/pages/harvest.html')}")
    lines = answer.splitlines()
    assert lines[0] == "Vineyards report early harvest after hot summer"
    assert answer.endswith("(3 of 6 sentences)")
    assert "cookies" not in answer


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/help", "Commands:"),
        ("/frobnicate", "Unknown command /frobnicate. Type /help for the list."),
        ("hello", "Commands start with / (for example /brief). Type /help for the list."),
        ("/brief news 9999", "/brief: hours must be between 1 and 720, got 9999"),
        ("/latest 0", "/latest: count must be between 1 and 25, got 0"),
        ("/search", "/search: give something to search for"),
        ('/search "unclosed', "No articles match “unclosed”."),
        ("/search " + "x" * 300, "/search: the search query is longer than 200 characters"),
        ("/summarize", "/summarize: give one URL"),
        ("/summarize ftp://example.com/x", "/summarize: "),
        ("/summarize http://127.0.0.1:1/", "/summarize: "),
    ],
)
async def test_bad_input_gets_one_line(channel: ConsoleChannel, line: str, expected: str) -> None:
    answer = await channel.handle(line)
    assert answer.startswith(expected)
    if line != "/help":
        assert "\n" not in answer
        assert "Traceback" not in answer


@pytest.mark.parametrize("line", ["/brief ²", "/latest ³", "/brief news ٣", "/latest 5²"])
async def test_digits_int_cannot_read_are_words_not_a_crash(
    channel: ConsoleChannel, line: str
) -> None:
    """``"²".isdigit()`` is true but ``int("²")`` fails: such a word is a topic or source."""
    answer = await channel.handle(line)
    assert answer.startswith(
        ("Briefing", "Nothing new", "No stories", "No articles", "/brief: ", "/latest: ")
    )
    assert "failed unexpectedly" not in answer


async def test_apostrophes_are_part_of_words(channel: ConsoleChannel) -> None:
    answer = await channel.handle("/search Biden's strikes")
    assert answer.splitlines()[0].startswith("1 result for “Biden's strikes”")
    assert "airstrikes" in answer
    assert (await channel.handle("/brief Biden's")).startswith(("Briefing", "Nothing new"))


async def test_run_reads_until_end_of_input(channel: ConsoleChannel) -> None:
    sink = io.StringIO()
    await channel.run(io.StringIO("/help\n\n/brief\n/quit\n/help\n"), sink, prompt=False)
    output = sink.getvalue()
    assert output.count("Commands:") == 1
    assert "Briefing:" in output
