"""Feed parsing in worker processes: same result as in-process, errors come back as raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ParseError
from bot.pipeline.parse import parse_feed
from bot.pipeline.pool import ParserPool

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


def test_negative_process_count_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        ParserPool(-1)
