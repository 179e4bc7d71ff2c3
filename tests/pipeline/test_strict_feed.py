"""The strict RSS path gives exactly feedparser's results: on every feed fixture of tests/, the
hostile documents, generated feeds, and all 2,346 files of the shared corpus (skipped when
absent). Each document is parsed twice, with and without the strict path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.errors import ParseError
from bot.core.models import ParsedFeed
from bot.pipeline.parse import parse_feed, strip_declarations
from bot.pipeline.strictfeed import read_rss
from tests.pipeline.test_feed_corpus import corpus
from tests.support.feed_server import FIXTURES
from tests.support.hostile_feeds import HOSTILE_FEEDS, item, rss


def both_ways(body: bytes, url: str, headers: dict[str, str] | None = None) -> tuple:
    """(strict path result, feedparser-only result); a ParseError is a result too."""
    outcomes = []
    for strict_path in (True, False):
        try:
            outcomes.append(parse_feed(body, url=url, headers=headers, strict_path=strict_path))
        except ParseError as error:
            outcomes.append(f"ParseError: {error}")
    return tuple(outcomes)


def taken_strictly(body: bytes) -> bool:
    """Whether the strict path reads the document (rather than refusing it)."""
    text = body.decode("utf-8", errors="replace")
    return read_rss(strip_declarations(text).encode()) is not None


def test_strict_path_reads_plain_rss_and_refuses_what_it_does_not_know() -> None:
    plain = rss(item("One", "one", " &lt;b&gt;More&lt;/b&gt; &amp; more")).encode()
    assert taken_strictly(plain)
    atom = (FIXTURES / "feeds" / "atom.xml").read_bytes()
    assert not taken_strictly(atom)
    nested = plain.replace(b"<title>One</title>", b"<title>O<b>n</b>e</title>")
    assert not taken_strictly(nested)
    unknown = plain.replace(b"<title>One</title>", b"<title>One</title><x>y</x>")
    assert not taken_strictly(unknown)
    based = plain.replace(b"<item>", b'<item xml:base="http://b.example/">')
    assert not taken_strictly(based)
    broken = plain.replace(b"</item>", b"")
    assert not taken_strictly(broken)
    for body in (plain, nested, unknown, based, broken):
        strict, lenient = both_ways(body, "http://a.example/feed")
        assert strict == lenient


def test_fixtures_and_hostile_documents_read_the_same_both_ways() -> None:
    documents = {path.name: path.read_bytes() for path in (FIXTURES / "feeds").iterdir()}
    types = dict.fromkeys(documents, "application/rss+xml")
    for name, make in HOSTILE_FEEDS.items():
        if name == "many-attributes":
            continue  # feedparser alone takes tens of seconds (test_isolation bounds it)
        case = make()
        documents[f"hostile/{name}"] = case.body
        types[f"hostile/{name}"] = case.content_type
    taken = 0
    for name, body in sorted(documents.items()):
        headers = {"Content-Type": types[name]}
        strict, lenient = both_ways(body, "http://news.example/feed.xml", headers)
        assert strict == lenient, name
        taken += isinstance(strict, ParsedFeed) and taken_strictly(body)
    assert taken >= 3  # the plain RSS fixtures go the fast way


def test_mojibake_windows_1252_guid_links_and_dates_match_feedparser() -> None:
    published = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title> Caf\u00c3\u00a9 news </title><link>http:///news.example/?a=1&amp;b=2</link>"
        "<language>de_DE</language><ttl>45</ttl>"
        "<item><guid>http:////news.example/1</guid><title>First \u0080</title>"
        f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
        "<description><![CDATA[<p>One &amp; two</p>]]></description></item>"
        '<item><guid isPermaLink="false">tag:2</guid><title>Second</title>'
        "<link>/relative?x=1&amp;amp;y=2</link><dc:date xmlns:dc='http://purl.org/dc/elements/"
        "1.1/'>2026-03-01T09:00:00+01:00</dc:date><description>short</description>"
        "<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        "<![CDATA[<p>The longer body, with more words in it.</p>]]></content:encoded></item>"
        "<item><title>Third</title><guid>https://news.example/3</guid>"
        "<link>https://news.example/3-link</link><pubDate>not a date</pubDate></item>"
        "</channel></rss>"
    ).encode()
    assert taken_strictly(body)
    strict, lenient = both_ways(body, "http://news.example/feed.xml", {"Content-Language": "fr"})
    assert strict == lenient
    assert isinstance(strict, ParsedFeed)
    assert strict.title == "Café news" and strict.ttl_minutes == 45
    assert strict.entries[0].title == "First €" and strict.language == "de_DE"
    assert [entry.link for entry in strict.entries] == [
        "http://news.example/1",
        "http://news.example/relative?x=1&y=2",
        "https://news.example/3-link",
    ]
    assert strict.entries[0].published == published
    assert strict.entries[1].published == published - timedelta(minutes=30)


def test_every_corpus_file_reads_the_same_both_ways() -> None:
    folder = corpus()
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    differences: list[str] = []
    taken = 0
    for record in manifest:
        body = (folder / record["path"]).read_bytes()
        headers = record.get("http_headers") or {}
        url = "http://127.0.0.1:8097/tests/" + record["path"]
        strict, lenient = both_ways(body, url, headers)
        if strict != lenient:
            differences.append(record["path"])
        taken += isinstance(strict, ParsedFeed) and taken_strictly(body)
    assert differences == []
    assert len(manifest) == 2346
    assert taken >= 100, taken


@pytest.mark.parametrize("items", [1, 50])
def test_generated_feeds_read_the_same_both_ways(items: int) -> None:
    entries = "".join(item(f"Story {n} \u2014 \u00e9t\u00e9", f"s{n}") for n in range(items))
    body = rss(entries).encode()
    assert taken_strictly(body)
    strict, lenient = both_ways(body, "http://news.example/feed.xml")
    assert strict == lenient and isinstance(strict, ParsedFeed)
    assert len(strict.entries) == items


def test_corpus_path_helper_is_shared() -> None:
    assert Path(corpus()).is_dir()
