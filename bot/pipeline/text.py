"""HTML to plain text, and the whitespace rules every stored text follows.

The HTML reader is a single regular-expression scan in linear time: each match consumes what it
looked at, so no input (unclosed comments, ``<b<b<b…``, unclosed quotes) makes it rescan.
Python's ``html.parser`` is quadratic on such input (100 KB of ``<!--`` took 6 s, 400 KB of
``<b`` 3 minutes), and feed text is written by strangers.

Stored text holds no control characters (C0 and C1, except the line breaks it is made of), no
invisible format characters (zero-width, bidi embeddings/overrides/isolates, soft hyphen, BOM)
and no lone surrogates, so search snippet markers (``\\x02``/``\\x03``) are unambiguous and
every string encodes to UTF-8.
"""

from __future__ import annotations

import html
import re

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
_PARAGRAPH_TAGS = frozenset({"p", "div", "li", "blockquote"})
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})
_RAW_TEXT_TAGS = frozenset({"script", "style"})
"""Their content is not markup: it runs to the matching end tag."""

# One token of markup. Every alternative either consumes what it scanned or fails within a
# few characters; unclosed constructs run to the end of the input, as in browsers.
_MARKUP = re.compile(
    r"<!--.*?(?:--!?>|\Z)"  # comment
    r"|<[!?][^>]*>?"  # doctype, CDATA, processing instruction, bogus comment
    r"|</(?![A-Za-z])[^>]*>?"  # bogus end tag
    r"|<(/?)([A-Za-z][^\s/>]*)((?:[^>\"']+|\"[^\"]*\"?|'[^']*'?)*)>?",  # tag
    re.DOTALL,
)
_RAW_TEXT_END = {
    tag: re.compile(rf"</{tag}(?![A-Za-z0-9])[^>]*>?", re.IGNORECASE) for tag in _RAW_TEXT_TAGS
}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x85\u2028\u2029]")
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"  # control characters (line breaks stay)
    r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
    r"\ud800-\udfff]"  # lone surrogates (from JSON escapes or surrogateescape)
)
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: paragraphs as blank-line-separated blocks."""
    if "<" not in markup and "&" not in markup:
        return _normalise(markup)
    parts: list[str] = []
    skip_depth = 0
    position = 0
    length = len(markup)
    while position < length:
        match = _MARKUP.search(markup, position)
        if match is None:
            if not skip_depth:
                parts.append(html.unescape(markup[position:]))
            break
        if match.start() > position and not skip_depth:
            parts.append(html.unescape(markup[position : match.start()]))
        position = match.end()
        name = match.group(2)
        if name is None:
            continue  # comment, declaration, processing instruction
        tag = name.lower()
        closing = bool(match.group(1))
        self_closing = match.group(3).rstrip().endswith("/")
        if closing:
            if tag in _SKIPPED_TAGS:
                skip_depth = max(0, skip_depth - 1)
            elif tag in _BLOCK_TAGS and not skip_depth:
                parts.append("\n\n" if tag in _PARAGRAPH_TAGS else "\n")
        elif tag in _RAW_TEXT_TAGS and not self_closing:
            end = _RAW_TEXT_END[tag].search(markup, position)
            position = end.end() if end else length
        elif tag in _SKIPPED_TAGS:
            if not self_closing:
                skip_depth += 1
        elif tag in _BLOCK_TAGS and not skip_depth:
            parts.append("\n")
    return _normalise("".join(parts))


def clean_inline(text: str) -> str:
    """One line: invisible and control characters removed, whitespace collapsed (titles,
    names)."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", _INVISIBLE.sub("", text))).strip()


def _normalise(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
