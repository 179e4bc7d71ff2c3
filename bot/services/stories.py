"""Stories from articles: grouping, the lead article, and the summary readers see."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Article, Story, SummarySentence
from bot.services.summaries import SummaryService

__all__ = ["StoryBuilder", "group_into_stories"]


def group_into_stories(articles: Sequence[Article]) -> list[Story]:
    """Articles grouped by story, most sources first, then newest first (no summaries yet)."""
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


class StoryBuilder:
    """Fills in the summaries of stories, computing and caching missing article summaries."""

    def __init__(self, summaries: SummaryService) -> None:
        self._summaries = summaries

    def with_summaries(self, stories: Sequence[Story]) -> list[Story]:
        """The stories with their summary sentences and provenance (sync; CPU-bound)."""
        summarised = self._summaries.with_summaries([a for s in stories for a in s.articles])
        by_id = {article.id: article for article in summarised}
        return [_summarised(story, by_id) for story in stories]


def _summarised(story: Story, articles: dict[str, Article]) -> Story:
    members = tuple(articles[a.id] for a in story.articles)
    lead = members[0]
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
