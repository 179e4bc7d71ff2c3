"""Hostile feed documents, built in memory: entity bombs in every Unicode encoding, external
entities, lying charsets, floods of entries, parser-quadratic markup, hostile JSON.

:data:`HOSTILE_FEEDS` maps a name to a :class:`HostileFeed` (body, Content-Type and what a
reader must see); :class:`~tests.support.hostile_server.HostileServer` serves each one at
``/hostile/NAME``.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

__all__ = [
    "ENTITY_BOMB_ENCODINGS",
    "HOSTILE_FEEDS",
    "HostileFeed",
    "billion_laughs",
    "entity_bomb",
    "external_entity",
    "many_attributes",
    "many_items",
    "rss",
]

BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}
ENTITY_BOMB_ENCODINGS = tuple(
    (codec, bom) for codec in BOMS for bom in (False, True) if not (codec == "utf-8" and bom)
)


@dataclass(frozen=True)
class HostileFeed:
    """A document, how it is served, and the item titles a safe reader stores (``None``:
    the document must fail with an error instead)."""

    body: bytes
    content_type: str = "application/rss+xml"
    titles: tuple[str, ...] | None = ()
    """Exactly these titles are stored; () only asks that nothing explodes."""


def rss(items: str, *, channel: str = "Hostile", prolog: str = "") -> str:
    return (
        f'{prolog}<rss version="2.0"><channel><title>{channel}</title>'
        f"<link>http://news.example/</link>{items}</channel></rss>"
    )


def item(title: str, slug: str, extra: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>http://news.example/{slug}</link>"
        f"<description>Story about {slug}.{extra}</description></item>"
    )


def entity_bomb(codec: str = "utf-8", bom: bool = False, *, size: int = 100_000) -> bytes:
    """One ~100 KB internal entity referenced a thousand times: 100 MB once expanded. The
    stray ``<`` makes expat give up, so feedparser's lenient parser would take over."""
    declaration = codec.rsplit("-", 1)[0] if codec.count("-") == 2 else codec
    document = rss(
        "<item><title>" + "&big;" * 1000 + "</title><link>http://news.example/bomb</link>"
        "<description>a < b</description></item>",
        prolog=f'<?xml version="1.0" encoding="{declaration}"?>\n<!DOCTYPE rss [\n'
        f'<!ENTITY big "{"A" * size}">\n]>\n',
    )
    return (BOMS[codec] if bom else b"") + document.encode(codec)


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    prolog = '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(entities) + "\n]>\n"
    return rss(item("&lol9;", "laughs") + "<broken", prolog=prolog).encode()


def external_entity(system_id: str) -> bytes:
    """An entity (and a parameter entity) whose value is fetched from ``system_id``."""
    prolog = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY ext SYSTEM "{system_id}">\n'
        f'<!ENTITY % remote SYSTEM "{system_id}">\n%remote;\n]>\n'
    )
    return rss(item("Leak &ext;", "leak"), prolog=prolog).encode()


def comment_hidden_doctype() -> bytes:
    """A DOCTYPE inside a comment: invisible to expat, but feedparser's lenient parser reads
    entity declarations from the text before the root element."""
    prolog = (
        f'<?xml version="1.0"?>\n<!--\n<!DOCTYPE rss [\n<!ENTITY big "{"B" * 100_000}">\n]>\n-->\n'
    )
    return rss(item("&big;" * 200, "hidden") + "<broken", prolog=prolog).encode()


def many_items(count: int) -> bytes:
    items = "".join(
        item(f"Item {n}", f"item-{n}").replace("</item>", f"<pubDate>{_rfc822(n)}</pubDate></item>")
        for n in range(count)
    )
    return rss(items).encode()


def many_attributes(size: int = 400_000) -> bytes:
    """One element with thousands of attributes: feedparser's lenient parser is quadratic in
    them (200 KB: seconds, 10 MB: hours)."""
    attributes = " ".join(f'a{n}="x"' for n in range(size // 10))
    return rss(f"<item {attributes}><title>Slow</title></item><broken").encode()


def _rfc822(n: int) -> str:
    """Item ``n`` is ``n`` hours newer than item 0."""
    return format_datetime(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n), usegmt=True)


def _json_feed(items: list[dict[str, object]] | str) -> bytes:
    if isinstance(items, str):
        return (
            '{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ' + items + "}"
        ).encode()
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    ).encode()


_LATIN = "Café in Zürich"
_CATALOGUE: dict[str, Callable[[], HostileFeed]] = {
    **{
        f"entity-bomb-{codec}{'-bom' if bom else ''}": (
            lambda codec=codec, bom=bom: HostileFeed(entity_bomb(codec, bom))
        )
        for codec, bom in ENTITY_BOMB_ENCODINGS
    },
    "billion-laughs": lambda: HostileFeed(billion_laughs()),
    "external-entity-file": lambda: HostileFeed(external_entity("file:///etc/passwd")),
    "comment-hidden-doctype": lambda: HostileFeed(comment_hidden_doctype()),
    "charset-header-latin1": lambda: HostileFeed(
        rss(item(_LATIN, "latin")).encode("iso-8859-1"),
        "text/xml; charset=iso-8859-1",
        (_LATIN,),
    ),
    "charset-header-lies": lambda: HostileFeed(
        rss(item(_LATIN, "lie")).encode("utf-8"), "text/xml; charset=iso-8859-1", (_LATIN,)
    ),
    "charset-declaration-lies": lambda: HostileFeed(
        rss(item(_LATIN, "lie"), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>').encode(),
        "application/rss+xml",
        (_LATIN,),
    ),
    "charset-utf8-declared-on-cp1252": lambda: HostileFeed(
        rss(item("“Smart” € quotes", "cp1252"), prolog='<?xml version="1.0"?>').encode("cp1252"),
        "application/rss+xml; charset=utf-8",
        ("“Smart” € quotes",),
    ),
    "charset-utf16-bom-header-says-utf8": lambda: HostileFeed(
        codecs.BOM_UTF16_LE + rss(item("東京 news", "tokyo")).encode("utf-16-le"),
        "application/xml; charset=utf-8",
        ("東京 news",),
    ),
    "charset-text-xml-without-charset": lambda: HostileFeed(
        rss(item(_LATIN, "plain")).encode(), "text/xml", (_LATIN,)
    ),
    "charset-shift-jis": lambda: HostileFeed(
        rss(
            item("日本語のニュース", "jp"), prolog='<?xml version="1.0" encoding="Shift_JIS"?>'
        ).encode("shift_jis"),
        "application/rss+xml",
        ("日本語のニュース",),
    ),
    "control-characters": lambda: HostileFeed(
        rss(item("Snip&#x2;pet &#x3;markers\u0007 gone", "controls")).encode(),
        titles=("Snippet markers gone",),
    ),
    "bidi-and-zero-width": lambda: HostileFeed(
        rss(item("\u202eevil\u202c \u200bname\u2066\ufeff", "bidi")).encode(),
        titles=("evil name",),
    ),
    "huge-title": lambda: HostileFeed(rss(item("word " * 200_000, "huge")).encode()),
    "many-items": lambda: HostileFeed(many_items(1500)),
    "many-attributes": lambda: HostileFeed(many_attributes(), titles=None),
    "json-deep": lambda: HostileFeed(
        _json_feed("[" * 100_000 + "]" * 100_000), "application/feed+json", None
    ),
    "json-huge-number": lambda: HostileFeed(
        _json_feed('[{"id": ' + "9" * 100_000 + "}]"), "application/feed+json", None
    ),
    "json-lone-surrogates": lambda: HostileFeed(
        _json_feed(
            '[{"id": "s", "url": "http://news.example/s", "title": "Lone \\ud800surrogate"}]'
        ),
        "application/feed+json",
        ("Lone surrogate",),
    ),
    "data-link": lambda: HostileFeed(
        rss(
            "<item><title>Open me</title><link>data:text/html,&lt;script&gt;x()&lt;/script&gt;"
            "</link><description>x</description></item>"
        ).encode(),
        titles=("Open me",),
    ),
    "javascript-link": lambda: HostileFeed(
        rss(
            "<item><title>Click me</title><link>javascript:alert(document.cookie)</link>"
            "<guid>js-1</guid><description>x</description></item>"
        ).encode(),
        titles=("Click me",),
    ),
}
HOSTILE_FEEDS = _CATALOGUE
"""Name → builder of the document (built when asked for: some are megabytes)."""
