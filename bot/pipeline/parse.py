"""Feed documents and article files to :class:`ParsedFeed`: RSS, Atom, JSON Feed, folders.

Pure and synchronous; callers run it off the event loop (the bot in a worker process, see
:mod:`bot.pipeline.isolation`).

Hostile documents are defused before feedparser sees them: the bytes are decoded to text first
(:func:`bot.pipeline.charset.decode_document`: byte order mark, HTTP charset, XML declaration,
in that order), DOCTYPE and ENTITY declarations are removed from the *text* (so no encoding,
UTF-16/32 or otherwise, hides them), and feedparser gets UTF-8 in a stream, never bytes it
could mistake for a file name. What comes out is bounded: at most ``MAX_ENTRIES`` entries (the
newest), titles of ``TITLE_LIMIT`` and texts of ``MAX_TEXT_CHARS`` characters.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.core.errors import ParseError
from bot.core.models import FeedEntry, ParsedFeed
from bot.pipeline import clean
from bot.pipeline.charset import decode_document
from bot.pipeline.cluster import DocumentReader
from bot.pipeline.query import QueryMatcher
from bot.pipeline.strictfeed import read_rss
from bot.pipeline.text import clean_inline, html_to_text

__all__ = [
    "ARTICLE_SUFFIXES",
    "MAX_ENTRIES",
    "MAX_TEXT_CHARS",
    "MAX_URL_CHARS",
    "TITLE_LIMIT",
    "TOKENIZED_CHARS_PER_FEED",
    "TokenizingFeedParser",
    "parse_article_file",
    "parse_feed",
    "parse_folder",
    "strip_declarations",
]

ARTICLE_SUFFIXES = (".txt", ".md")
MAX_ENTRIES = 1000
"""Entries kept from one document: the newest by date, in document order."""
MAX_TEXT_CHARS = 100_000
"""Characters of text kept per entry (cut at a paragraph or word)."""
TITLE_LIMIT = 300
MAX_URL_CHARS = 2048
TOKENIZED_CHARS_PER_FEED = 2_000_000
"""Characters of entry text per feed that :class:`TokenizingFeedParser` stems and reads ahead."""
_MAX_MARKUP_CHARS = 4 * MAX_TEXT_CHARS
"""Markup looked at per entry: HTML is rarely more than four times its text."""

# The prolog's DOCTYPE, internal subset included. The pattern always matches once it has seen
# its keyword (an unclosed quote, comment or bracket runs to the end of the text), so it costs
# one linear pass whatever follows.
_DOCTYPE = re.compile(
    r"""<!DOCTYPE(?:[^\[>"']++|"[^"]*+"?|'[^']*+'?)*+"""
    r"""(?:\[(?:[^\]"'<]++|"[^"]*+"?|'[^']*+'?|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|<)*+\]?)?"""
    r"""\s*+>?""",
    re.IGNORECASE | re.DOTALL,
)
_DECLARATION_KEYWORD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_HEADER = re.compile(
    r"^\s*date\s+(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?\b[^\n]*(?:\n|$)",
    re.IGNORECASE,
)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def parse_feed(
    body: bytes,
    *,
    url: str = "",
    headers: Mapping[str, str] | None = None,
    strict_path: bool = True,
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 document.

    Well-formed RSS 2.0 is read by :func:`bot.pipeline.strictfeed.read_rss` (lxml), anything
    it refuses by feedparser, with the same results; ``strict_path=False`` always uses
    feedparser (to compare the two)."""
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    document = decode_document(body, content_type)
    if document.lstrip(" \t\r\n").startswith("{") or "json" in content_type.lower():
        return _parse_json_feed(document, url)
    return _parse_xml_feed(document, url, headers, strict_path)


class TokenizingFeedParser:
    """:func:`parse_feed`, with each entry's :attr:`FeedEntry.match_tokens` and
    :attr:`FeedEntry.cluster_reading` computed.

    Meant for a parser worker (:class:`bot.pipeline.isolation.ParserPool` keeps one instance
    per worker, so the stem cache and word memo stay warm): stemming is most of the cost of
    matching an article against subscriptions, and reading the text most of the cost of placing
    it in a story; here both run beside the bot's process, not in it. Entries past
    ``TOKENIZED_CHARS_PER_FEED`` characters of title and text keep None (the bot does that work
    one article at a time), so a huge feed's answer stays small.
    """

    __slots__ = ("_matcher", "_reader")

    def __init__(self) -> None:
        self._matcher = QueryMatcher()
        self._reader = DocumentReader()

    def __call__(
        self, body: bytes, *, url: str = "", headers: Mapping[str, str] | None = None
    ) -> ParsedFeed:
        parsed = parse_feed(body, url=url, headers=headers)
        tokens, read = self._matcher.tokens, self._reader.read
        budget = TOKENIZED_CHARS_PER_FEED
        entries = []
        for entry in parsed.entries:
            budget -= len(entry.title) + len(entry.text)
            entries.append(
                replace(
                    entry,
                    match_tokens=tokens(entry.title, entry.text),
                    cluster_reading=read(entry.title, entry.text),
                )
                if budget >= 0
                else entry
            )
        return replace(parsed, entries=tuple(entries))


def strip_declarations(document: str) -> str:
    """The XML text without DOCTYPE and ENTITY declarations, so no entity can expand.

    Works on decoded text (see :func:`bot.pipeline.charset.decode_document`), whatever
    encoding the bytes were in. The prolog's DOCTYPE goes whole; any other ``<!DOCTYPE`` or
    ``<!ENTITY`` (misplaced, or inside a comment or CDATA section, where feedparser's lenient
    parser would still find it) loses its keyword, so it is inert text. Each removal leaves a
    space, so no removal can join the text around it into a new keyword.
    """
    start = _prolog_end(document)
    if document[start : start + 9].upper() == "<!DOCTYPE":
        end = _DOCTYPE.match(document, start).end()  # type: ignore[union-attr]
        document = f"{document[:start]} {document[end:]}"
    return _DECLARATION_KEYWORD.sub(" ", document)


def _prolog_end(document: str) -> int:
    """Where the DOCTYPE would start: after the XML declaration, comments, processing
    instructions and white space."""
    position = 0
    while True:
        while position < len(document) and document[position].isspace():
            position += 1
        if document.startswith("<?", position):
            closing = document.find("?>", position + 2)
        elif document.startswith("<!--", position):
            closing = document.find("-->", position + 4)
        else:
            return position
        if closing < 0:
            return position
        position = closing + 2 + (document[closing] == "-")


def _parse_xml_feed(
    document: str, url: str, headers: dict[str, str], strict_path: bool
) -> ParsedFeed:
    data = strip_declarations(document).encode("utf-8", errors="replace")
    parsed: Any = None
    # a Content-Location is a base URI feedparser resolves links against: not on the strict path
    if strict_path and "content-location" not in headers:
        parsed = read_rss(data, content_language=headers.get("content-language"))
    if parsed is None:
        parsed = _feedparser_reading(data, headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError(f"not a feed{f': {reason}' if reason else ''}")
    channel = parsed.feed
    base = _text(channel.get("link")) or url
    language = _text(channel.get("language"))[:16] or None
    entries = [
        entry
        for entry in (_xml_entry(item, base, url, language) for item in parsed.entries)
        if entry is not None
    ]
    return ParsedFeed(
        title=clean_inline(_text(channel.get("title")))[:TITLE_LIMIT] or None,
        entries=_newest(entries),
        language=language,
        ttl_minutes=_positive_int(channel.get("ttl")),
    )


def _feedparser_reading(data: bytes, headers: dict[str, str]) -> Any:
    """feedparser's result for ``data`` (UTF-8, declarations removed), with our options."""
    return feedparser.parse(
        io.BytesIO(data),  # a stream: bytes could be taken for a file name and opened
        response_headers={
            name: value
            for name, value in headers.items()
            if name in ("content-location", "content-language")
        }
        | {"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _xml_entry(item: Any, base: str, feed_url: str, language: str | None) -> FeedEntry | None:
    contents = item.get("content") or []
    body_html = max((_text(c.get("value")) for c in contents), key=len, default="")
    summary_html = _text(item.get("summary"))
    text = _entry_text(body_html if len(body_html) >= len(summary_html) else summary_html)
    title = _title(item.get("title"))
    link = _absolute(item.get("link"), base or feed_url)
    guid = _text(item.get("id"))[:MAX_URL_CHARS] or None
    if not (title or text) or not (link or guid or title):
        return None
    return FeedEntry(
        title=title or _title_from_text(text),
        link=link,
        guid=guid,
        published=_struct_to_datetime(
            item.get("published_parsed")
            # "in" first: a missing updated_parsed would be aliased with a DeprecationWarning
            or (item.get("updated_parsed") if "updated_parsed" in item else None)
        ),
        text=text,
        language=_text(item.get("language"))[:16] or language,
    )


def _parse_json_feed(document_text: str, url: str) -> ParsedFeed:
    try:
        document = json.loads(document_text)
    except (ValueError, RecursionError) as error:  # ValueError: bad JSON, 5000-digit numbers
        raise ParseError(f"invalid JSON Feed: {str(error)[:200]}") from None
    if not isinstance(document, dict) or not str(document.get("version", ""))[:64].startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("not a JSON Feed: missing jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("invalid JSON Feed: items is not a list")
    base = _text_field(document, "home_page_url") or _text_field(document, "feed_url") or url
    language = (_text_field(document, "language") or "")[:16] or None
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        html_body = _text_field(item, "content_html")
        text = (
            _entry_text(html_body) if html_body else clean_text(_text_field(item, "content_text"))
        )
        if not text:
            text = clean_text(_text_field(item, "summary"))
        title = _title(_text_field(item, "title"))
        link = _absolute(_text_field(item, "url") or _text_field(item, "external_url"), base)
        guid = item.get("id")
        guid = str(guid)[:MAX_URL_CHARS] if isinstance(guid, str | int) and str(guid) else None
        if not (title or text) or not (link or guid):
            continue
        entries.append(
            FeedEntry(
                title=title or _title_from_text(text),
                link=link,
                guid=guid,
                published=_iso_datetime(
                    _text_field(item, "date_published") or _text_field(item, "date_modified")
                ),
                text=text,
                language=(_text_field(item, "language") or "")[:16] or language,
            )
        )
    return ParsedFeed(
        title=clean_inline((_text_field(document, "title") or "")[:TITLE_LIMIT]) or None,
        entries=_newest(entries),
        language=language,
    )


def parse_folder(folder: Path) -> ParsedFeed:
    """Every ``.txt``/``.md`` article file in a folder, in name order."""
    if not folder.is_dir():
        raise ParseError(f"{folder} is not a folder")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES and p.is_file()
    )
    return ParsedFeed(title=folder.name, entries=tuple(parse_article_file(p) for p in files))


def parse_article_file(path: Path) -> FeedEntry:
    """An article file: optional first line ``date YYYY-MM-DD ...``, then the body.

    A Markdown file's leading ``# heading`` becomes the title; otherwise the title is taken
    from the first sentence.
    """
    try:
        raw = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise ParseError(f"cannot read {path}: {error}") from error
    published = None
    header = _HEADER.match(raw)
    if header:
        day, clock = header.group(1), header.group(2) or "00:00"
        try:
            published = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)
        except ValueError:
            published = None
        raw = raw[header.end() :]
    title = ""
    lines = raw.strip().splitlines()
    if lines and lines[0].startswith("# "):
        title = clean_inline(lines[0][2:])
        lines = lines[1:]
    text = clean_text("\n".join(lines))
    return FeedEntry(
        title=title or _title_from_text(text),
        link=path.resolve().as_uri(),
        guid=None,
        published=published,
        text=text,
    )


def clean_text(text: str | None) -> str:
    """Plain text with normalised whitespace, at most ``MAX_TEXT_CHARS`` characters."""
    if not text:
        return ""
    return _cut(html_to_text(text[:_MAX_MARKUP_CHARS].replace("<", "&lt;")), MAX_TEXT_CHARS)


def _entry_text(markup: str) -> str:
    """An entry's HTML as text, bounded in what is read and what is kept."""
    return _cut(html_to_text(markup[:_MAX_MARKUP_CHARS]), MAX_TEXT_CHARS)


def _title(value: Any) -> str:
    """An entry title: HTML as one plain line, at most ``TITLE_LIMIT`` characters."""
    return clean_inline(html_to_text(_text(value)[: 8 * TITLE_LIMIT]))[:TITLE_LIMIT]


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a paragraph, line or word boundary."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in ("\n\n", "\n", " "):
        at = head.rfind(boundary)
        if at >= limit // 2:
            return head[:at].rstrip()
    return head


def _newest(entries: list[FeedEntry]) -> tuple[FeedEntry, ...]:
    """At most ``MAX_ENTRIES`` entries: the newest (undated ones count as oldest), in
    document order."""
    if len(entries) <= MAX_ENTRIES:
        return tuple(entries)
    ranked = sorted(
        range(len(entries)), key=lambda i: entries[i].published or _EARLIEST, reverse=True
    )
    keep = sorted(ranked[:MAX_ENTRIES])
    return tuple(entries[i] for i in keep)


def _text(value: Any) -> str:
    """A feedparser value as a string ("" for anything else)."""
    return value if isinstance(value, str) else ""


def _title_from_text(text: str, limit: int = 120) -> str:
    """A headline for an untitled article: its first line without dateline or byline, cut
    at a word."""
    first = clean.clean_text(text[:2000]).split("\n", 1)[0] if text else ""
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _absolute(link: Any, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip() or len(link) > MAX_URL_CHARS:
        return None
    link = link.strip()
    try:
        return urljoin(base, link) if base else link
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


def _struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _iso_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if isinstance(parsed, date) and not isinstance(parsed, datetime):
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _text_field(mapping: dict[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
