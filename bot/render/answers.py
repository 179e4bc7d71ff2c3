"""Story cards, recaps and answers: as Discord messages and as terminal text.

Everything quoted comes from feeds, so it goes through ``bot.render.sanitize`` (no pings, no
markup tricks, only http(s) links)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.answers import Answer, Quote, Recap
from bot.render.embeds import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FOOTER_TEXT_LIMIT,
    MESSAGE_CONTENT_LIMIT,
    MessagePage,
)
from bot.render.sanitize import safe_excerpt, safe_plain, safe_title, safe_url

__all__ = [
    "StoryCard",
    "answer_page",
    "developing_line",
    "recap_pages",
    "render_answer",
    "render_recap",
    "render_story_card",
    "story_card_embed",
]

_WIDTH = 88
_INDENT = "   "
_LINES_PER_PAGE = 8
_QUOTE_BUDGET = 400
_NAME_BUDGET = 100
QUIET = "this story has gone quiet"


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What a followed story's DM card shows now."""

    headline: str
    url: str
    summary: tuple[str, ...]
    sources: tuple[str, ...]
    updated_at: datetime
    new: Quote | None = None
    """The sentence that says something the card did not say yet."""
    quiet: bool = False


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def developing_line(sources: int, updated_at: datetime, *, quiet: bool = False) -> str:
    """The line an edited channel alert carries: ``developing · 4 sources · updated 14:02``
    (``this story has gone quiet · ...`` once it stopped)."""
    noun = "source" if sources == 1 else "sources"
    state = QUIET if quiet else "developing"
    return f"{state} · {sources} {noun} · updated {_hhmm(updated_at)}"


def _status(card: StoryCard) -> str:
    noun = "source" if len(card.sources) == 1 else "sources"
    state = f"{QUIET} · " if card.quiet else ""
    return f"{state}{len(card.sources)} {noun} · updated {_hhmm(card.updated_at)} UTC"


def story_card_embed(card: StoryCard) -> dict[str, Any]:
    """A story card as one embed: headline, summary, the "New:" line, sources and status."""
    parts = [safe_excerpt(" ".join(card.summary), 1500)] if card.summary else []
    if card.new is not None:
        quoted = safe_excerpt(card.new.text, _QUOTE_BUDGET)
        source = safe_title(card.new.source_name, _NAME_BUDGET)
        parts.append(f"**New:** “{quoted}” — {source}")
    sources = ", ".join(safe_title(name, _NAME_BUDGET) for name in card.sources[:12])
    if sources:
        parts.append(f"Sources: {sources}")
    embed: dict[str, Any] = {
        "type": "rich",
        "title": safe_title(card.headline, 256) or "(untitled)",
        "description": "\n\n".join(parts)[:EMBED_DESCRIPTION_LIMIT],
        "footer": {"text": safe_plain(_status(card), EMBED_FOOTER_TEXT_LIMIT)},
    }
    link = safe_url(card.url)
    if link:
        embed["url"] = link
    return embed


def render_story_card(card: StoryCard) -> str:
    """A story card as terminal text."""
    lines = [card.headline, _status(card)]
    if card.url:
        lines.append(card.url)
    lines.append("")
    lines.extend(textwrap.wrap(" ".join(card.summary), _WIDTH))
    if card.new is not None:
        lines.append("")
        lines.extend(textwrap.wrap(f"New: “{card.new.text}” — {card.new.source_name}", _WIDTH))
    lines.append("")
    lines.append("Sources: " + ", ".join(card.sources))
    return "\n".join(lines)


def _quote_line(quote: Quote) -> str:
    """``2026-11-20 · “sentence” — Source <url>`` for Discord (the link written out, never
    behind feed text, and without a preview)."""
    text = safe_excerpt(quote.text, _QUOTE_BUDGET)
    source = safe_title(quote.source_name, _NAME_BUDGET)
    link = safe_url(quote.url)
    cited = f"{source} <{link}>" if link else source
    return f"{quote.published_at:%Y-%m-%d} · “{text}” — {cited}"


def recap_pages(recap: Recap) -> list[MessagePage]:
    """A recap as messages of a few lines each (the existing paging turns them)."""
    about = safe_title(recap.query, 100)
    if not recap.stories:
        return [MessagePage(content=f"Nothing to recap about “{about}” in {recap.days} days.")]
    blocks: list[str] = []
    for story in recap.stories:
        heading = f"**{safe_title(story.title, 200)}** · {len(story.sources)} sources"
        lines = [_quote_line(quote) for quote in story.lines]
        for start in range(0, len(lines), _LINES_PER_PAGE):
            blocks.append("\n".join([heading, *lines[start : start + _LINES_PER_PAGE]]))
    header = f"**Recap** · “{about}” · last {recap.days} days"
    return [MessagePage(content=f"{header}\n\n{block}"[:MESSAGE_CONTENT_LIMIT]) for block in blocks]


def render_recap(recap: Recap) -> str:
    """A recap as terminal text: per story, dated lines oldest first."""
    if not recap.stories:
        return f"Nothing to recap about “{recap.query}” in the last {recap.days} days."
    out = [f"Recap: “{recap.query}”, last {recap.days} days"]
    for story in recap.stories:
        out += ["", f"{story.title} ({len(story.sources)} sources)"]
        for quote in story.lines:
            out.append(_text_quote(quote))
    return "\n".join(out)


def _text_quote(quote: Quote) -> str:
    head = f"{quote.published_at:%Y-%m-%d}  "
    body = textwrap.wrap(
        f"“{quote.text}” — {quote.source_name}",
        _WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
    )
    return "\n".join([*body, " " * len(head) + quote.url])


def answer_page(answer: Answer) -> MessagePage:
    """An answer as one message: its quotes, each with its source; or why there is none."""
    asked = safe_title(answer.question, 200)
    if not answer.quotes:
        return MessagePage(content=_no_answer(asked, answer.searched))
    lines = [f"**Q:** {asked}", *(_quote_line(quote) for quote in answer.quotes)]
    return MessagePage(content="\n".join(lines)[:MESSAGE_CONTENT_LIMIT])


def render_answer(answer: Answer) -> str:
    """An answer as terminal text."""
    if not answer.quotes:
        return _no_answer(answer.question, answer.searched)
    return "\n".join([f"Q: {answer.question}", *(_text_quote(q) for q in answer.quotes)])


def _no_answer(question: str, searched: int) -> str:
    return (
        f"I found nothing that answers “{question}” well enough "
        f"({searched} articles read); try other words or a longer window."
    )
