"""OPML: the feed-list exchange format, read and written without trusting the input."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from bot.core.errors import ParseError
from bot.pipeline.charset import decode_document
from bot.pipeline.parse import strip_declarations

__all__ = ["MAX_OPML_BYTES", "OpmlFeed", "export_opml", "parse_opml"]

MAX_OPML_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed of an OPML outline."""

    title: str
    url: str


def parse_opml(document: bytes) -> list[OpmlFeed]:
    """Every ``outline`` with an ``xmlUrl``, nested folders included, in document order.

    The file is decoded first (byte order mark, then its XML declaration) and DOCTYPE and
    ENTITY declarations are removed from the text, so no entity expands in any encoding.
    """
    if len(document) > MAX_OPML_BYTES:
        raise ParseError(f"the OPML file is larger than {MAX_OPML_BYTES // 1024} KB")
    try:
        root = ElementTree.fromstring(strip_declarations(decode_document(document)))
    except ElementTree.ParseError as error:
        raise ParseError(f"not a valid OPML file: {error}") from error
    if root.tag.lower() != "opml":
        raise ParseError("not an OPML file: the root element is not <opml>")
    feeds = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            title = (outline.get("title") or outline.get("text") or url).strip()
            feeds.append(OpmlFeed(title=title[:200], url=url))
    return feeds


def export_opml(feeds: Sequence[OpmlFeed], title: str = "newsbot feeds") -> bytes:
    """An OPML 2.0 document listing ``feeds``."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_escape(title)}</title></head>",
        "  <body>",
        *(
            f'    <outline type="rss" text={quoteattr(feed.title)} '
            f"title={quoteattr(feed.title)} xmlUrl={quoteattr(feed.url)}/>"
            for feed in feeds
        ),
        "  </body>",
        "</opml>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
