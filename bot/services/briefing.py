"""Briefings: the top stories of a time window, newest and most covered first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.models import Article, Briefing
from bot.core.ports import Store
from bot.services.archive import ArchiveSearch, read_query
from bot.services.stories import StoryBuilder, group_into_stories
from bot.services.summaries import SummaryService
from bot.services.validation import check_hours

__all__ = ["BriefingService"]

_CANDIDATES_PER_STORY = 5


class BriefingService:
    """Composes briefings from the store; summaries are filled in on first use."""

    def __init__(
        self,
        store: Store,
        summaries: SummaryService,
        clock: Callable[[], datetime],
        *,
        default_hours: int = 24,
        max_stories: int = 10,
    ) -> None:
        self._store = store
        self._stories = StoryBuilder(summaries)
        self._clock = clock
        self._default_hours = default_hours
        self._max_stories = max_stories
        self._archive = ArchiveSearch(store)

    async def brief(self, topic: str | None = None, hours: int | None = None) -> Briefing:
        """The top stories of the last ``hours`` hours, optionally about ``topic``.

        When the window holds nothing, the newest matching stories are shown instead and the
        briefing says so (``fallback``).
        """
        hours = check_hours(hours if hours is not None else self._default_hours)
        if topic:
            read_query(topic)  # a bad topic is refused here, saying what is wrong
            topic = topic.strip()
        return await asyncio.to_thread(self._compose, topic, hours, None)

    def unbriefed(self, channel_id: int, topic: str | None, hours: int | None = None) -> Briefing:
        """A scheduled briefing: only stories this channel was not briefed on yet, no fallback
        (sync; the scheduler runs it off the event loop)."""
        hours = check_hours(hours if hours is not None else self._default_hours)
        return self._compose(topic, hours, channel_id)

    def _compose(self, topic: str | None, hours: int, channel_id: int | None) -> Briefing:
        now = self._clock()
        since = now - timedelta(hours=hours)
        limit = self._max_stories * _CANDIDATES_PER_STORY
        articles = self._candidates(topic, since, now, limit)
        fallback = not articles and channel_id is None
        if fallback:
            articles = self._candidates(topic, None, now, limit)
        stories = group_into_stories(articles)
        if channel_id is not None and stories:
            seen = self._store.briefed_story_ids(channel_id, [story.id for story in stories])
            stories = [story for story in stories if story.id not in seen]
        stories = stories[: self._max_stories]
        return Briefing(
            stories=tuple(self._stories.with_summaries(stories)),
            hours=hours,
            topic=topic,
            generated_at=now,
            fallback=fallback and bool(stories),
        )

    def _candidates(
        self, topic: str | None, since: datetime | None, now: datetime, limit: int
    ) -> list[Article]:
        if topic:
            hits = self._archive.hits(read_query(topic), since=since, limit=limit)
            return [hit.article for hit in hits]
        if since is None:
            return self._store.latest_articles(limit)
        return self._store.articles_between(since, now, limit=limit)
