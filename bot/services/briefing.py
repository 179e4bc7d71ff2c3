"""Briefings: the top stories of a time window, newest and most covered first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.core.models import Article, Briefing, Story, SummarySentence
from bot.core.ports import Store
from bot.services.summaries import SummaryService
from bot.services.validation import check_hours, check_query

__all__ = ["BriefingService", "group_into_stories"]

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
        self._summaries = summaries
        self._clock = clock
        self._default_hours = default_hours
        self._max_stories = max_stories

    async def brief(self, topic: str | None = None, hours: int | None = None) -> Briefing:
        """The top stories of the last ``hours`` hours, optionally about ``topic``.

        When the window holds nothing, the newest matching stories are shown instead and the
        briefing says so (``fallback``).
        """
        hours = check_hours(hours if hours is not None else self._default_hours)
        topic = check_query(topic) if topic else None
        return await asyncio.to_thread(self._compose, topic, hours)

    def _compose(self, topic: str | None, hours: int) -> Briefing:
        now = self._clock()
        since = now - timedelta(hours=hours)
        limit = self._max_stories * _CANDIDATES_PER_STORY
        articles = self._candidates(topic, since, now, limit)
        fallback = not articles
        if fallback:
            articles = self._candidates(topic, None, now, limit)
        stories = group_into_stories(articles)[: self._max_stories]
        summarised = self._summaries.with_summaries([a for s in stories for a in s.articles])
        by_id = {a.id: a for a in summarised}
        return Briefing(
            stories=tuple(_with_summary(story, by_id) for story in stories),
            hours=hours,
            topic=topic,
            generated_at=now,
            fallback=fallback and bool(stories),
        )

    def _candidates(
        self, topic: str | None, since: datetime | None, now: datetime, limit: int
    ) -> list[Article]:
        if topic:
            return [hit.article for hit in self._store.search(topic, since=since, limit=limit)]
        if since is None:
            return self._store.latest_articles(limit)
        return self._store.articles_between(since, now, limit=limit)


def group_into_stories(articles: Sequence[Article]) -> list[Story]:
    """Articles grouped by story, most sources first, then newest first."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.story_id, []).append(article)
    stories = []
    for story_id, members in groups.items():
        members.sort(key=lambda a: (a.published_at, a.id))
        lead = members[0]
        stories.append(
            Story(
                id=story_id,
                title=lead.title,
                url=lead.url,
                published_at=max(a.published_at for a in members),
                articles=tuple(members),
            )
        )
    stories.sort(key=lambda s: (len(s.sources), s.published_at), reverse=True)
    return stories


def _with_summary(story: Story, articles: dict[str, Article]) -> Story:
    lead = articles[story.articles[0].id]
    members = tuple(articles[a.id] for a in story.articles)
    return Story(
        id=story.id,
        title=story.title,
        url=story.url,
        published_at=story.published_at,
        articles=members,
        summary=tuple(
            SummarySentence(text=sentence, article_id=lead.id, source_name=lead.source_name)
            for sentence in lead.summary or ()
        ),
        sentence_count=lead.sentence_count or 0,
    )
