"""Stories from articles: grouping, the lead article, and the summary readers see."""

from __future__ import annotations

import re
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
        """The stories with their summary, best headline and provenance (sync; CPU-bound).

        A one-article story shows that article's cached summary; a story told by several
        articles gets one multi-document summary whose sentences name their sources."""
        summarised = self._summaries.with_summaries([a for s in stories for a in s.articles])
        by_id = {article.id: article for article in summarised}
        return [self._summarised(story, by_id) for story in stories]

    def _summarised(self, story: Story, articles: dict[str, Article]) -> Story:
        members = tuple(articles[a.id] for a in story.articles)
        lead = members[0]
        if len(members) == 1:
            summary = tuple(
                SummarySentence(text=sentence, article_id=lead.id, source_name=lead.source_name)
                for sentence in lead.summary or ()
            )
        else:
            summary = self._summaries.story_summary(members)
        best = best_headline(members)
        return Story(
            id=story.id,
            title=best.title,
            url=best.url,
            published_at=story.published_at,
            articles=members,
            summary=summary,
            sentence_count=sum(a.sentence_count or 0 for a in members),
        )


def best_headline(articles: Sequence[Article]) -> Article:
    """The article whose headline shares the most words with the others' (the most typical
    wording of the event) among those a reader can open; the earliest wins ties."""
    linked = [a for a in articles if a.url.startswith(("http://", "https://"))]
    articles = linked or list(articles)
    words = [set(_WORD.findall(a.title.lower())) - _SMALL_WORDS for a in articles]

    def agreement(index: int) -> float:
        return sum(
            len(words[index] & other) / (len(words[index] | other) or 1)
            for position, other in enumerate(words)
            if position != index
        )

    return articles[max(range(len(articles)), key=lambda i: (agreement(i), -i))]


_WORD = re.compile(r"\w+")
_SMALL_WORDS = frozenset({"a", "an", "the", "of", "in", "on", "to", "for", "and", "at", "by"})
