"""Feed documents and article files to :class:`ParsedFeed`: RSS, Atom, JSON Feed, folders.

Pure and synchronous; callers run it off the event loop.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.core.errors import ParseError
from bot.core.models import FeedEntry, ParsedFeed
from bot.pipeline.text import clean_inline, html_to_text

__all__ = [
    "ARTICLE_SUFFIXES",
    "parse_article_file",
    "parse_feed",
    "parse_folder",
    "strip_declarations",
]

ARTICLE_SUFFIXES = (".txt", ".md")
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY[^>]*>", re.IGNORECASE | re.DOTALL)
_HEADER = re.compile(
    r"^\s*date\s+(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?\b[^\n]*(?:\n|$)",
    re.IGNORECASE,
)
_TITLE_LIMIT = 300


def parse_feed(
    body: bytes, *, url: str = "", headers: Mapping[str, str] | None = None
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 document."""
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") or "json" in headers.get("content-type", ""):
        return _parse_json_feed(body, url)
    return _parse_xml_feed(body, url, headers)


def strip_declarations(document: bytes) -> bytes:
    """The XML without DOCTYPE and ENTITY declarations, so no entity can expand."""
    return _ENTITY_DECLARATION.sub(b"", _DOCTYPE.sub(b"", document))


def _parse_xml_feed(body: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
    body = strip_declarations(body)
    parsed = feedparser.parse(
        body,
        response_headers=headers or {"content-type": "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError(f"not a feed{f': {reason}' if reason else ''}")
    channel = parsed.feed
    base = channel.get("link") or url
    language = channel.get("language") or None
    entries = tuple(
        entry
        for entry in (_xml_entry(item, base, url, language) for item in parsed.entries)
        if entry is not None
    )
    return ParsedFeed(
        title=clean_inline(channel.get("title", "")) or None,
        entries=entries,
        language=language,
        ttl_minutes=_positive_int(channel.get("ttl")),
    )


def _xml_entry(item: Any, base: str, feed_url: str, language: str | None) -> FeedEntry | None:
    contents = item.get("content") or []
    body_html = max((c.get("value", "") for c in contents), key=len, default="")
    summary_html = item.get("summary", "")
    text = html_to_text(body_html if len(body_html) >= len(summary_html) else summary_html)
    title = clean_inline(html_to_text(item.get("title", "")))[:_TITLE_LIMIT]
    link = _absolute(item.get("link"), base or feed_url)
    guid = item.get("id") or None
    if not (title or text) or not (link or guid or title):
        return None
    return FeedEntry(
        title=title or _title_from_text(text),
        link=link,
        guid=guid,
        published=_struct_to_datetime(item.get("published_parsed") or item.get("updated_parsed")),
        text=text,
        language=item.get("language") or language,
    )


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ParseError(f"invalid JSON Feed: {error}") from error
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("not a JSON Feed: missing jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("invalid JSON Feed: items is not a list")
    base = _text_field(document, "home_page_url") or _text_field(document, "feed_url") or url
    language = _text_field(document, "language")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        html_body = _text_field(item, "content_html")
        text = (
            html_to_text(html_body) if html_body else clean_text(_text_field(item, "content_text"))
        )
        if not text:
            text = clean_text(_text_field(item, "summary"))
        title = clean_inline(html_to_text(_text_field(item, "title") or ""))[:_TITLE_LIMIT]
        link = _absolute(_text_field(item, "url") or _text_field(item, "external_url"), base)
        guid = item.get("id")
        guid = str(guid) if isinstance(guid, (str, int)) and str(guid) else None
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
                language=_text_field(item, "language") or language,
            )
        )
    return ParsedFeed(
        title=clean_inline(_text_field(document, "title") or "") or None,
        entries=tuple(entries),
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
    """Plain text with normalised whitespace."""
    return html_to_text(text.replace("<", "&lt;")) if text else ""


def _title_from_text(text: str, limit: int = 120) -> str:
    """A headline for an untitled article: its first line without dateline, cut at a word."""
    first = text.strip().split("\n", 1)[0] if text else ""
    first = re.sub(r"^\([A-Z][\w .]*\)\s*[—–-]+\s*", "", first)  # "(Bloomberg) — "
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _absolute(link: Any, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    return urljoin(base, link) if base else link


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
