"""HTML to plain text, and the whitespace rules every stored text follows."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["clean_inline", "html_to_text"]

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SPACES_TO_FOLD = re.compile(
    r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}"
    r"|[\t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
"""The runs :data:`_SPACES` matches, less the lone plain spaces that stay as they are:
substituting those would rebuild the text once per word."""
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag in ("p", "div", "li", "blockquote") else "\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: paragraphs as blank-line-separated blocks."""
    if "<" not in markup and "&" not in markup:
        return _normalise(markup)
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except (AssertionError, ValueError):
        return _normalise(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return _normalise("".join(collector.parts))


def clean_inline(text: str) -> str:
    """One line: invisible characters removed, whitespace collapsed (titles, names)."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text).replace("\n", " ")).strip()


def _normalise(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    lines = [_SPACES_TO_FOLD.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
