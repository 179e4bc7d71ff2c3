"""Briefings, articles, search hits and summaries as Discord messages: plain dicts in Discord's
embed JSON shape (the transport turns them into ``discord.Embed.from_dict``), grouped into pages
that respect Discord's message limits by construction.

Every string that came from a feed, a page or a user goes through ``bot.render.sanitize``; the
numbers and words around them are ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.core.models import SNIPPET_END, SNIPPET_START, Article, Briefing, SearchHit, Story
from bot.render.sanitize import (
    safe_excerpt,
    safe_line,
    safe_plain,
    safe_title,
    safe_url,
    truncate_sentences,
)

__all__ = [
    "EMBED_AUTHOR_NAME_LIMIT",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_FIELDS_LIMIT",
    "EMBED_FIELD_NAME_LIMIT",
    "EMBED_FIELD_VALUE_LIMIT",
    "EMBED_FOOTER_TEXT_LIMIT",
    "EMBED_TITLE_LIMIT",
    "MESSAGE_CONTENT_LIMIT",
    "MESSAGE_EMBEDS_LIMIT",
    "MESSAGE_EMBED_TOTAL_LIMIT",
    "MessagePage",
    "articles_page",
    "briefing_pages",
    "digest_pages",
    "embed_length",
    "search_pages",
    "split_content",
    "story_embed",
    "summary_embed",
]

# Discord's limits (docs: "Message Resource", content and "Embed Limits"), counted in code points.
MESSAGE_CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_TEXT_LIMIT = 2048
EMBED_AUTHOR_NAME_LIMIT = 256
MESSAGE_EMBEDS_LIMIT = 10
MESSAGE_EMBED_TOTAL_LIMIT = 6000
"""Sum of title, description, field names and values, footer text and author name over all
embeds of one message."""

# Our own, tighter budgets. Each embed we build stays under
# EMBED_TITLE_LIMIT + EMBED_DESCRIPTION_LIMIT + _FOOTER_BUDGET < MESSAGE_EMBED_TOTAL_LIMIT,
# so every embed fits a message on its own and paging always makes progress.
_FOOTER_BUDGET = 512
_NAME_BUDGET = 100
_NAMES_LINE_BUDGET = 300
_QUERY_BUDGET = 100
_HEADING_BUDGET = 200
_ARTICLE_SUMMARY_BUDGET = 1024
_EXCERPT_BUDGET = 350
_SNIPPET_BUDGET = 1024
_MIN_PIECE = 8
_SPACES = re.compile(" {2,}")
_UNTITLED = "(untitled)"
_SEP = " · "


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One message: its text and up to ``MESSAGE_EMBEDS_LIMIT`` embed dicts."""

    content: str
    embeds: tuple[dict[str, Any], ...] = ()
    follow: tuple[str, ...] = ()
    """The stories shown, in embed order, that a reader may follow (briefings)."""


def story_embed(story: Story, *, colour: int | None = None) -> dict[str, Any]:
    """A story: linked title, summary, provenance ("via X · 3 of 41 sentences", "also reported
    by Y, Z"), publication time, and its sources in the footer."""
    sources = story.sources
    lead = safe_title(sources[0], _NAME_BUDGET) if sources else ""
    others = _names_line([name for name in sources[1:] if safe_title(name, _NAME_BUDGET) != lead])
    also = "also reported by " + others if others else ""
    via = _names_line([sentence.source_name for sentence in story.summary])
    count = max(story.sentence_count, len(story.summary))
    noun = "sentence" if count == 1 else "sentences"
    longest_via = f"via {via}{_SEP}{len(story.summary)} of {count} {noun}"
    budget = EMBED_DESCRIPTION_LIMIT - len(longest_via) - len(also) - len("\n\n\n")
    summary, shown = _fit_sentences([sentence.text for sentence in story.summary], " ", budget)
    via_line = ""
    if shown:
        via_line = ("via " + via + _SEP if via else "") + f"{shown} of {count} {noun}"
    provenance = "\n".join(line for line in (via_line, also) if line)
    description = "\n\n".join(part for part in (summary, provenance) if part)
    return _embed(
        title=story.title,
        url=story.url,
        description=description,
        footer=_plain_names(sources),
        timestamp=story.published_at,
        colour=colour,
    )


def briefing_pages(briefing: Briefing, *, colour: int | None = None) -> list[MessagePage]:
    """A briefing as messages: a header line and one embed per story, as many per message as
    Discord allows."""
    topic = safe_title(briefing.topic, _QUERY_BUDGET) if briefing.topic else ""
    about = f" about “{topic}”" if topic else ""
    if not briefing.stories:
        return [MessagePage(content=f"No stories{about} yet.")]
    window = _window(briefing.hours)
    if briefing.fallback:
        header = f"Nothing new{about} in the last {window} — the latest stories instead"
    else:
        count = len(briefing.stories)
        noun = "story" if count == 1 else "stories"
        header = f"**Briefing** · {count} {noun}{about} · last {window}"
    embeds = [story_embed(story, colour=colour) for story in briefing.stories]
    pages = _paginate(embeds, header, "**Briefing** (continued)")
    shown = 0
    for number, page in enumerate(pages):
        stories = briefing.stories[shown : shown + len(page.embeds)]
        pages[number] = replace(page, follow=tuple(story.id for story in stories))
        shown += len(page.embeds)
    return pages


def digest_pages(
    stories: Sequence[Story], *, held: int, colour: int | None = None
) -> list[MessagePage]:
    """One message rolling up the alerts a flood cap held back: a linked line per story,
    as many as fit, then how many more."""
    noun = "story" if held == 1 else "stories"
    content = f"**Digest** · {held} more matching {noun} arrived while your alerts were paused"
    lines: list[str] = []
    used = 0
    for number, story in enumerate(stories):
        title = safe_title(story.title, 200)
        link = safe_url(story.url)
        line = f"• [{title}]({link})" if link else f"• {title}"
        reserve = len(f"\n… and {len(stories) - number} more")
        if used + len(line) + 1 + reserve > EMBED_DESCRIPTION_LIMIT:
            lines.append(f"… and {len(stories) - number} more")
            break
        lines.append(line)
        used += len(line) + 1
    embeds = (
        (
            _embed(
                title="Held back this hour",
                url="",
                description="\n".join(lines),
                footer="",
                timestamp=None,
                colour=colour,
            ),
        )
        if lines
        else ()
    )
    return [MessagePage(content=content[:MESSAGE_CONTENT_LIMIT], embeds=embeds)]


def articles_page(
    articles: Sequence[Article], heading: str, *, colour: int | None = None
) -> list[MessagePage]:
    """The newest articles (``/latest``) under a heading, one embed each."""
    if not articles:
        return [MessagePage(content="No articles yet.")]
    title = safe_title(heading, _HEADING_BUDGET)
    header = f"**{title}**" if title else "**Latest**"
    embeds = [_article_embed(article, colour) for article in articles]
    return _paginate(embeds, header, header + " (continued)")


def search_pages(
    query: str, hits: Sequence[SearchHit], *, colour: int | None = None
) -> list[MessagePage]:
    """Search results (``/search``): one embed per hit with its snippet, matches in bold."""
    shown = safe_title(query, _QUERY_BUDGET)
    if not hits:
        return [MessagePage(content=f"No articles match “{shown}”.")]
    noun = "result" if len(hits) == 1 else "results"
    embeds = [
        _embed(
            title=hit.article.title,
            url=hit.article.url,
            description=_snippet(hit.snippet, _SNIPPET_BUDGET),
            footer=safe_plain(hit.article.source_name, _FOOTER_BUDGET),
            timestamp=hit.article.published_at,
            colour=colour,
        )
        for hit in hits
    ]
    header = f"{len(hits)} {noun} for “{shown}”"
    return _paginate(embeds, header, f"Results for “{shown}” (continued)")


def summary_embed(
    title: str,
    url: str,
    sentences: Sequence[str],
    sentence_count: int,
    *,
    colour: int | None = None,
) -> dict[str, Any]:
    """One page's summary (``/summarize``): linked title, one paragraph per sentence, and how
    many of the page's sentences are shown."""
    description, shown = _fit_sentences(sentences, "\n\n", EMBED_DESCRIPTION_LIMIT)
    count = max(sentence_count, shown)
    noun = "sentence" if count == 1 else "sentences"
    return _embed(
        title=title or "Summary",
        url=url,
        description=description or "Nothing to summarise.",
        footer=f"{shown} of {count} {noun}",
        timestamp=None,
        colour=colour,
    )


def split_content(text: str, limit: int = MESSAGE_CONTENT_LIMIT) -> list[str]:
    """Message text in chunks of at most ``limit`` characters, split at the last paragraph
    break, else line break, else sentence end, else space that keeps a chunk at least half full
    (hard cut as a last resort). The text is split as given: sanitise it first."""
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _split_point(rest, limit)
        chunk = rest[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def embed_length(embed: dict[str, Any]) -> int:
    """The characters an embed counts towards ``MESSAGE_EMBED_TOTAL_LIMIT``."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for field in embed.get("fields", ()):
        total += len(field.get("name", "")) + len(field.get("value", ""))
    return total


def _embed(
    *,
    title: str,
    url: str,
    description: str,
    footer: str,
    timestamp: datetime | None,
    colour: int | None,
) -> dict[str, Any]:
    """An embed dict with only non-empty parts (Discord rejects empty strings)."""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": safe_title(title, EMBED_TITLE_LIMIT) or _UNTITLED,
    }
    link = safe_url(url)
    if link:
        embed["url"] = link
    description = truncate_sentences(description, EMBED_DESCRIPTION_LIMIT).strip()
    if description:
        embed["description"] = description
    footer = footer[:EMBED_FOOTER_TEXT_LIMIT].strip()
    if footer:
        embed["footer"] = {"text": footer}
    if timestamp is not None:
        embed["timestamp"] = _iso(timestamp)
    if colour is not None:
        if not 0 <= colour <= 0xFFFFFF:
            raise ValueError(f"colour must be a 24-bit RGB value, not {colour!r}")
        embed["color"] = colour
    return embed


def _article_embed(article: Article, colour: int | None) -> dict[str, Any]:
    if article.summary:
        description, _ = _fit_sentences(article.summary, " ", _ARTICLE_SUMMARY_BUDGET)
    else:
        description = safe_excerpt(article.text, _EXCERPT_BUDGET)
    return _embed(
        title=article.title,
        url=article.url,
        description=description,
        footer=safe_plain(article.source_name, _FOOTER_BUDGET),
        timestamp=article.published_at,
        colour=colour,
    )


def _fit_sentences(sentences: Iterable[str], separator: str, budget: int) -> tuple[str, int]:
    """Sanitised sentences joined while they fit ``budget``; a first sentence that is too long
    is cut at a sentence or word boundary. Returns the text and how many sentences it holds."""
    parts: list[str] = []
    used = 0
    for sentence in sentences:
        text = safe_line(sentence, budget)
        if not text:
            continue
        extra = len(text) + (len(separator) if parts else 0)
        if used + extra > budget:
            if not parts:
                parts.append(truncate_sentences(text, budget))
            break
        parts.append(text)
        used += extra
    return separator.join(parts), len(parts)


def _snippet(snippet: str, budget: int) -> str:
    """A search snippet with its matches in bold.

    The snippet is split at the store's ``SNIPPET_START``/``SNIPPET_END`` markers first and each
    piece is sanitised on its own, so feed text can never add markup; the ``**`` around matches
    are ours. Markers are paired up as they come: a stray end is ignored, an unclosed start is
    closed at the end. The store cannot tell its markers from the same control characters in an
    article's own text, so such text can at worst move the bold, nothing else.
    """
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    emphasised = False
    for char in snippet:
        if char in (SNIPPET_START, SNIPPET_END):
            opening = char == SNIPPET_START
            if opening != emphasised:
                pieces.append(("".join(current), emphasised))
                current = []
                emphasised = opening
        else:
            current.append(char)
    pieces.append(("".join(current), emphasised))
    # Whitespace-only matches are not worth bold; then neighbours with the same emphasis are
    # joined, so that "@" + "everyone" is sanitised as one piece and "**a****b**" never occurs.
    merged: list[tuple[str, bool]] = []
    for text, bold in pieces:
        bold = bold and bool(text.strip())
        if not text:
            continue
        if merged and merged[-1][1] == bold:
            merged[-1] = (merged[-1][0] + text, bold)
        else:
            merged.append((text, bold))
    out = ""
    for text, bold in merged:
        lead = " " if text[0].isspace() else ""
        trail = " " if text[-1].isspace() else ""
        body = safe_line(text, budget)
        wrap = "**" if bold and body else ""
        piece = lead + wrap + body + wrap + trail
        if len(out) + len(piece) > budget:
            room = budget - len(out) - len(lead) - 2 * len(wrap)
            if room >= _MIN_PIECE:
                out += lead + wrap + truncate_sentences(body, room) + wrap
            break
        out += piece
    return _SPACES.sub(" ", out).strip()


def _names_line(names: Sequence[str]) -> str:
    """Distinct names, sanitised, joined with commas until ``_NAMES_LINE_BUDGET``, then
    "and N more"; empty when no name is left."""
    distinct = [name for name in dict.fromkeys(safe_title(n, _NAME_BUDGET) for n in names) if name]
    return _join_limited(distinct, ", ", _NAMES_LINE_BUDGET)


def _plain_names(names: Sequence[str]) -> str:
    distinct = [name for name in dict.fromkeys(safe_plain(n, _NAME_BUDGET) for n in names) if name]
    return _join_limited(distinct, _SEP, _FOOTER_BUDGET)


def _join_limited(names: Sequence[str], separator: str, budget: int) -> str:
    shown: list[str] = []
    used = 0
    for index, name in enumerate(names):
        extra = len(name) + (len(separator) if shown else 0)
        left = len(names) - index - 1
        reserve = len(f" and {left} more") if left else 0
        if used + extra + reserve > budget:
            return (separator.join(shown) + f" and {len(names) - index} more").strip()
        shown.append(name)
        used += extra
    return separator.join(shown)


def _paginate(embeds: Sequence[dict[str, Any]], header: str, continued: str) -> list[MessagePage]:
    """Embeds grouped into messages of at most ``MESSAGE_EMBEDS_LIMIT`` embeds and
    ``MESSAGE_EMBED_TOTAL_LIMIT`` characters; page numbers in the content when there are
    several."""
    groups: list[list[dict[str, Any]]] = []
    size = 0
    for embed in embeds:
        length = embed_length(embed)
        if (
            not groups
            or len(groups[-1]) >= MESSAGE_EMBEDS_LIMIT
            or size + length > MESSAGE_EMBED_TOTAL_LIMIT
        ):
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += length
    pages = []
    for number, group in enumerate(groups, 1):
        content = header if number == 1 else continued
        if len(groups) > 1:
            content += f"{_SEP}page {number} of {len(groups)}"
        content = content[:MESSAGE_CONTENT_LIMIT]
        pages.append(MessagePage(content=content, embeds=tuple(group)))
    return pages


def _split_point(text: str, limit: int) -> int:
    """Where to end a chunk of ``text`` (longer than ``limit``); always at least 1."""
    least = max(limit // 2, 1)
    for separator in ("\n\n", "\n"):
        index = text.rfind(separator, 0, limit + len(separator))
        if index >= least:
            return index
    for end in (". ", "! ", "? ", "… "):
        index = text.rfind(end, 0, limit + 1)
        if index + 1 >= least:
            return index + 1
    index = text.rfind(" ", 0, limit + 1)
    if index >= least:
        return index
    cut = limit
    while cut > 1 and _odd_backslashes_before(text, cut):
        cut -= 1
    return cut


def _odd_backslashes_before(text: str, index: int) -> bool:
    count = 0
    while index - count > 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _window(hours: int) -> str:
    if hours % 24 == 0 and hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} hour" if hours == 1 else f"{hours} hours"
