"""Main text of an article page, with trafilatura tuned for precision."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

from bot.core.errors import ExtractionError
from bot.pipeline.text import clean_inline, html_to_text

__all__ = ["ExtractedPage", "extract_article"]

_MIN_TEXT_CHARS = 200


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The title and main text of a page."""

    title: str
    text: str


def extract_article(page: bytes | str, url: str) -> ExtractedPage:
    """The page's main text; :class:`ExtractionError` when there is no article in it."""
    markup = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    document = trafilatura.bare_extraction(
        markup,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        with_metadata=True,
    )
    text = html_to_text((getattr(document, "text", None) or "").replace("<", "&lt;"))
    if len(text) < _MIN_TEXT_CHARS:
        raise ExtractionError(f"no article text found at {url}")
    title = clean_inline(getattr(document, "title", None) or "")
    first_line, _, rest = text.partition("\n")
    if title and clean_inline(first_line) == title:
        text = rest.strip()
    return ExtractedPage(title=title, text=text)
