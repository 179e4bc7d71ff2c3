"""A strict fast path for well-formed RSS 2.0: the values feedparser would give, in a tenth of
its time, or None so the caller falls back to feedparser.

feedparser reads a document through a SAX handler with hundreds of special cases; on a typical
feed of ~2 KB items that is most of the parse. Most feeds are plain, well-formed RSS 2.0, and
for those lxml (libxml2, in C) builds the tree far faster. :func:`read_rss` reads such a
document into the same values :func:`feedparser.parse` would produce for the fields
:mod:`bot.pipeline.parse` uses (feed title, link, language and ttl; each item's title, link,
guid, description, ``content:encoded`` and dates), applying the same post-processing
feedparser applies to every value (white space stripped, its UTF-8 mojibake repair and
windows-1252 mapping, the guid-as-link rule, its link clean-ups and date parser).

It refuses (returns None) anything it does not know to read exactly as feedparser does: a
document that is not well-formed, a root other than ``<rss>``, an element it does not know
(or knows to be harmless only as a leaf) in the channel or an item, a known element repeated,
attributes that change feedparser's reading (``xml:base``, ``xml:lang``, content types), and
markup nested inside a text element. What it refuses, feedparser reads as before; the
comparison over the shared corpus (``tests/pipeline/test_strict_feed.py``) holds the two to
the same results.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from feedparser.datetimes import _parse_date  # feedparser's own date reader: same dates
from feedparser.html import _cp1252  # the windows-1252 mapping feedparser applies to values
from lxml import etree

__all__ = ["StrictFeed", "read_rss"]

_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MEDIA = ("{http://search.yahoo.com/mrss/}", "{http://search.yahoo.com/mrss}")
_ATOM_LINK = "{http://www.w3.org/2005/Atom}link"

_ITEM_FIELDS = frozenset({"title", "link", "guid", "description", "pubDate",
                          _CONTENT + "encoded", _DC + "date"})  # fmt: skip
"""Item children read here, each at most once per item."""
_ITEM_LEAVES = frozenset(
    {
        "author",
        "category",
        "comments",
        "enclosure",
        _DC + "creator",
        _DC + "subject",
        _DC + "publisher",
        _DC + "rights",
        _DC + "contributor",
        "{http://purl.org/rss/1.0/modules/slash/}comments",
        "{http://wellformedweb.org/commentAPI/}comment",
        "{http://wellformedweb.org/commentAPI/}commentRss",
        "{http://rssnamespace.org/feedburner/ext/1.0}origLink",
        *(media + name for media in _MEDIA for name in ("content", "thumbnail", "keywords")),
    }
)
"""Item children feedparser keeps under keys this module's callers never read, as long as
they hold no elements (an element inside one could still be read as a title or a link)."""
_CHANNEL_FIELDS = frozenset({"title", "link", "language", "ttl"})
_CHANNEL_LEAVES = frozenset(
    {
        "description",
        "lastBuildDate",
        "pubDate",
        "generator",
        "docs",
        "copyright",
        "managingEditor",
        "webMaster",
        "category",
        "cloud",
        "rating",
        _DC + "creator",
        _DC + "date",
        _DC + "publisher",
        _DC + "rights",
        "{http://purl.org/rss/1.0/modules/syndication/}updatePeriod",
        "{http://purl.org/rss/1.0/modules/syndication/}updateFrequency",
    }
)
_IMAGE_CHILDREN = frozenset({"title", "url", "link", "width", "height", "description"})
_SKIP_CHILDREN = frozenset({"hour", "day"})
_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_URI_SLASHES = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_BARE_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
_PARSER_OPTIONS = {
    "encoding": "utf-8",  # the caller re-encoded the text: a declaration must not override it
    "resolve_entities": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": False,
}


@dataclass(slots=True)
class StrictFeed:
    """What feedparser's result holds for the fields read: ``version``, ``feed`` (a mapping
    like its ``feed``) and ``entries`` (mappings like its entries)."""

    version: str
    feed: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def get(self, key: str) -> Any:
        return self.version if key == "version" else None


class _OutsideStrictPathError(Exception):
    """The document is outside what this module reads exactly as feedparser does."""


def read_rss(data: bytes, *, content_language: str | None = None) -> StrictFeed | None:
    """The feedparser reading of well-formed RSS 2.0 ``data`` (UTF-8, declarations already
    removed), or None when the document is outside the strict path (see the module's notes).
    ``content_language`` is the HTTP ``Content-Language``, which feedparser takes as the
    feed's language unless the channel names one."""
    if b"<rss" not in data[:4096] or b"xml:base" in data:
        return None
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return None
    try:
        return _read_root(root, content_language)
    except _OutsideStrictPathError:
        return None


def _read_root(root: Any, content_language: str | None) -> StrictFeed:
    if root.tag != "rss" or set(root.attrib) - {"version"} or len(root) != 1:
        raise _OutsideStrictPathError
    channel = root[0]
    if channel.tag != "channel" or channel.attrib:
        raise _OutsideStrictPathError
    version = root.get("version", "")
    result = StrictFeed(_VERSIONS.get(version) or ("rss20" if version.startswith("2.") else "rss"))
    feed = result.feed
    if content_language:
        feed["language"] = content_language.replace("_", "-")
    seen: set[str] = set()
    for child in channel:
        tag = child.tag
        if tag == "item":
            result.entries.append(_read_item(child))
        elif tag in _CHANNEL_FIELDS:
            if tag in seen or len(child) or child.attrib:
                raise _OutsideStrictPathError
            seen.add(tag)
            value = _value(child.text)
            if tag == "link":
                value = _BARE_REFERENCE.sub(r"&\g<1>", _resolve(value))
            feed[tag] = value
        elif tag in _CHANNEL_LEAVES:
            if len(child):
                raise _OutsideStrictPathError
        elif tag == "image":
            _require_leaves(child, _IMAGE_CHILDREN)
        elif tag in ("skipHours", "skipDays"):
            _require_leaves(child, _SKIP_CHILDREN)
        elif tag == _ATOM_LINK:
            rel = child.get("rel")
            if len(child) or not child.get("href") or rel in (None, "alternate"):
                raise _OutsideStrictPathError
        elif tag is etree.Comment or tag is etree.PI:
            continue
        else:
            raise _OutsideStrictPathError
    return result


def _require_leaves(element: Any, names: frozenset[str]) -> None:
    for child in element:
        if child.tag not in names or len(child) or child.attrib:
            raise _OutsideStrictPathError


def _read_item(item: Any) -> dict[str, Any]:
    if item.attrib:
        raise _OutsideStrictPathError
    entry: dict[str, Any] = {}
    seen: set[str] = set()
    for child in item:
        tag = child.tag
        if tag not in _ITEM_FIELDS:
            if tag in _ITEM_LEAVES and not len(child):
                continue
            raise _OutsideStrictPathError
        if tag in seen or len(child):
            raise _OutsideStrictPathError
        seen.add(tag)
        attributes = child.attrib
        if attributes and (tag != "guid" or set(attributes) != {"isPermaLink"}):
            raise _OutsideStrictPathError
        value = _value(child.text)
        if tag == "title":
            entry["title"] = value
        elif tag == "description":
            entry["summary"] = value
        elif tag == "link":
            value = _resolve(value).replace("&amp;", "&")
            entry["link"] = _BARE_REFERENCE.sub(r"&\g<1>", value)
        elif tag == "guid":
            is_link = attributes.get("isPermaLink", "true") == "true"
            entry["id"] = value = _resolve(value) if is_link else value
            if is_link:
                entry.setdefault("link", value)
        elif tag == "pubDate":
            entry["published_parsed"] = _parse_date(value)
        elif tag == _DC + "date":
            entry["updated_parsed"] = _parse_date(value)
        else:  # content:encoded: feedparser copies it to an unset summary, which a later
            entry["content"] = [{"value": value}]  # description replaces
            entry.setdefault("summary", value)
    return entry


def _value(text: str | None) -> str:
    """A text value as feedparser's ``pop`` leaves it (no base64, no sanitising)."""
    value = (text or "").strip()
    if value.isascii():
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # UTF-8 read as latin-1
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)


def _resolve(uri: str) -> str:
    """feedparser's ``resolve_uri`` with no base URI: only the slashes after the scheme are
    tidied."""
    return _URI_SLASHES.sub(r"\1\3", uri) if uri else uri
