"""Plain-text renderings for the console and the command line."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import datetime

from bot.core.models import SNIPPET_END, SNIPPET_START, Article, Briefing, SearchHit, Story

__all__ = [
    "display_url",
    "render_articles",
    "render_briefing",
    "render_search",
    "render_summary",
]

_WIDTH = 100
_INDENT = "   "


def render_briefing(briefing: Briefing) -> str:
    """A numbered list of stories with source, time, link, summary and provenance."""
    about = f" about “{briefing.topic}”" if briefing.topic else ""
    window = _window(briefing.hours)
    if not briefing.stories:
        if briefing.topic:
            return f"No stories{about} found."
        return "No stories yet. Run `newsbot fetch` or add feeds to the config."
    lines = []
    if briefing.fallback:
        lines.append(f"Nothing new{about} in the last {window}; the latest stories instead:")
    else:
        count = len(briefing.stories)
        lines.append(
            f"Briefing: {count} {_plural(count, 'story', 'stories')}{about}, last {window}"
        )
    for number, story in enumerate(briefing.stories, 1):
        lines.append("")
        lines.extend(_story_lines(number, story))
    return "\n".join(lines)


def _story_lines(number: int, story: Story) -> list[str]:
    lines = [f"{number}. {story.title}"]
    sources = story.sources
    byline = f"{sources[0]} · {_time(story.published_at)}"
    url = display_url(story.url)
    lines.append(_INDENT + byline + (f" · {url}" if url else ""))
    if len(sources) > 1:
        lines.append(_INDENT + "also reported by " + ", ".join(sources[1:]))
    text = " ".join(sentence.text for sentence in story.summary)
    if text:
        lines.extend(textwrap.wrap(text, _WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT))
        shown = len(story.summary)
        via = ", ".join(dict.fromkeys(sentence.source_name for sentence in story.summary))
        lines.append(f"{_INDENT}(via {via} · {shown} of {story.sentence_count} sentences)")
    return lines


def render_articles(articles: Sequence[Article]) -> str:
    """The newest articles, one block each."""
    if not articles:
        return "No articles yet."
    blocks = []
    for article in articles:
        url = display_url(article.url)
        block = [f"- {article.title}", f"  {article.source_name} · {_time(article.published_at)}"]
        if url:
            block[-1] += f" · {url}"
        if article.summary:
            block.extend(
                textwrap.wrap(
                    " ".join(article.summary), _WIDTH, initial_indent="  ", subsequent_indent="  "
                )
            )
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def render_search(query: str, hits: Sequence[SearchHit]) -> str:
    """Ranked results with a snippet each; matches shown in *stars*."""
    if not hits:
        return f"No articles match “{query}”."
    lines = [f"{len(hits)} {_plural(len(hits), 'result', 'results')} for “{query}”:"]
    for number, hit in enumerate(hits, 1):
        article = hit.article
        snippet = hit.snippet.replace(SNIPPET_START, "*").replace(SNIPPET_END, "*")
        url = display_url(article.url)
        lines.append("")
        lines.append(f"{number}. {article.title}")
        lines.append(
            f"   {article.source_name} · {_time(article.published_at)}"
            + (f" · {url}" if url else "")
        )
        lines.extend(
            textwrap.wrap(snippet, _WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT)
        )
    return "\n".join(lines)


def render_summary(title: str, url: str, sentences: Sequence[str], sentence_count: int) -> str:
    """One page's or file's summary with its compression."""
    head = [title] if title else []
    shown = display_url(url)
    if shown and shown != title:
        head.append(shown)
    body = [textwrap.fill(sentence, _WIDTH) for sentence in sentences]
    footer = f"({len(sentences)} of {sentence_count} sentences)"
    return "\n".join([*head, "", *body, "", footer]) if head else "\n".join([*body, "", footer])


def display_url(url: str) -> str:
    """The URL a reader can open; empty for internal ``urn:`` ids."""
    if url.startswith("urn:"):
        return ""
    if url.startswith("file://"):
        return url.removeprefix("file://")
    return url


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _window(hours: int) -> str:
    if hours % 24 == 0 and hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} {_plural(hours, 'hour', 'hours')}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
