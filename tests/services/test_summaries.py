"""Summaries on demand: a multi-article story's summary is kept for the next briefing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_services
from bot.config import load_settings
from bot.core.models import Article
from tests.conftest import write_config


async def test_a_story_summary_is_computed_once_per_set_of_articles(tmp_path: Path) -> None:
    workspace = write_config(tmp_path)
    now = datetime.now(UTC)
    articles = [
        Article(
            id=f"s{number}", url=f"https://news.example/{number}", title=f"Bridge opens {number}",
            source_name=f"Source {number}", feed_id=None, published_at=now, first_seen_at=now,
            text="The new bridge opened on Monday. Traffic moved at once. Crowds cheered.",
            story_id="s0", language="en", text_is_teaser=False, backfill=False,
        )
        for number in range(3)
    ]  # fmt: skip
    async with open_services(load_settings(workspace.env)) as services:
        summaries = services.summaries
        first = summaries.story_summary(articles[:2])
        assert summaries.story_summary(articles[:2]) is first  # kept
        grown = summaries.story_summary(articles)  # the story gained an article
        assert grown is not first and {s.article_id for s in grown} <= {"s0", "s1", "s2"}
