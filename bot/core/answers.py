"""What ``/recap`` and ``/ask`` answer with: sentences quoted verbatim from stored articles,
each with its date and source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Answer", "Quote", "Recap", "RecapStory"]


@dataclass(frozen=True, slots=True)
class Quote:
    """One sentence exactly as an article wrote it, and where it came from."""

    text: str
    article_id: str
    title: str
    url: str
    source_name: str
    published_at: datetime
    position: int
    """The place of the sentence's paragraph in its article (0: the first)."""


@dataclass(frozen=True, slots=True)
class RecapStory:
    """One story's timeline: a line per development, oldest first."""

    story_id: str
    title: str
    lines: tuple[Quote, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recap:
    """The timelines of the stories matching a query over the last days."""

    query: str
    days: int
    stories: tuple[RecapStory, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """An extractive answer: one to three quotes, or none when nothing answers well enough."""

    question: str
    quotes: tuple[Quote, ...]
    searched: int
    """How many candidate articles were read."""
