"""Every feed format and article-file layout parses to the entries a reader expects."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import ParseError
from bot.pipeline.cluster import DocumentReader
from bot.pipeline.parse import (
    MAX_ENTRIES,
    MAX_TEXT_CHARS,
    TITLE_LIMIT,
    TOKENIZED_CHARS_PER_FEED,
    TokenizingFeedParser,
    parse_article_file,
    parse_feed,
    parse_folder,
    strip_declarations,
)
from bot.pipeline.query import QueryMatcher
from tests.support.feed_server import FIXTURES
from tests.support.hostile_feeds import (
    ENTITY_BOMB_ENCODINGS,
    HOSTILE_FEEDS,
    entity_bomb,
    item,
    many_items,
    rss,
)

BASE = "http://news.example"
REPO = Path(__file__).resolve().parents[2]


def fixture(name: str) -> bytes:
    raw = (FIXTURES / "feeds" / name).read_bytes()
    encoding = "iso-8859-1" if b"ISO-8859-1" in raw[:100] else "utf-8"
    text = (
        raw.decode(encoding)
        .replace("{base}", BASE)
        .replace("{now_iso}", "2026-11-20T08:30:00Z")
        .replace("{now_rfc822}", "Fri, 20 Nov 2026 08:30:00 GMT")
    )
    return text.encode(encoding)


def test_rss2_titles_links_dates_and_full_content() -> None:
    feed = parse_feed(fixture("rss2.xml"), url=f"{BASE}/rss2.xml")
    assert feed.title == "Harbor Gazette"
    assert feed.ttl_minutes == 30
    assert [e.title for e in feed.entries] == [
        "Harbor city opens floating solar farm",
        "Northern rail strike ends after pay deal",
    ]
    solar, rail = feed.entries
    assert solar.link == f"{BASE}/news/solar-farm?utm_source=rss&utm_medium=feed"
    assert solar.guid == "gazette-1001"
    assert solar.published == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert "<p>" not in solar.text
    assert solar.text.startswith("Port Ellery switched on a floating solar farm")
    # content:encoded wins over the one-line description
    assert "nine-day strike" in rail.text and "Drivers accept" not in rail.text


def test_the_tokenizing_parser_adds_match_tokens_and_cluster_readings_and_nothing_else() -> None:
    body, url = fixture("rss2.xml"), f"{BASE}/rss2.xml"
    plain = parse_feed(body, url=url)
    reader = TokenizingFeedParser()
    tokenized = reader(body, url=url)
    matcher = QueryMatcher()
    assert [e.match_tokens for e in tokenized.entries] == [
        matcher.tokens(e.title, e.text) for e in plain.entries
    ]
    assert "solar" in (tokenized.entries[0].match_tokens or ())
    document_reader = DocumentReader()
    assert [e.cluster_reading for e in tokenized.entries] == [
        document_reader.read(e.title, e.text) for e in plain.entries
    ]
    assert "solar" in tokenized.entries[0].cluster_reading.terms  # type: ignore[union-attr]
    bare = tuple(replace(e, match_tokens=None, cluster_reading=None) for e in tokenized.entries)
    assert replace(tokenized, entries=bare) == plain
    assert reader(body, url=url) == tokenized


def test_the_tokenizing_parser_leaves_entries_past_its_budget_to_the_bot() -> None:
    text = " word" * 10_000
    count = TOKENIZED_CHARS_PER_FEED // len(text) + 3
    items = "".join(item(f"Story {n}", str(n), text) for n in range(count))
    entries = TokenizingFeedParser()(rss(items).encode(), url=BASE).entries
    tokenized = [e for e in entries if e.match_tokens is not None]
    assert [e.cluster_reading is not None for e in entries] == [
        e.match_tokens is not None for e in entries
    ]
    assert 0 < len(tokenized) < len(entries) == count
    assert sum(len(e.title) + len(e.text) for e in tokenized) <= TOKENIZED_CHARS_PER_FEED
    assert entries[: len(tokenized)] == tuple(tokenized)


def test_atom_1_0_entries() -> None:
    feed = parse_feed(fixture("atom.xml"), url=f"{BASE}/atom.xml")
    assert feed.title == "Ocean Science Weekly"
    coral = feed.entries[0]
    assert coral.title == "Researchers map deep-sea coral reef off the Azores"
    assert coral.link == f"{BASE}/science/azores-coral"
    assert coral.published == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert "eleven kilometres" in coral.text


@pytest.mark.parametrize(
    ("name", "title", "phrase"),
    [
        ("rss1.xml", "Central bank holds interest rates steady", "3.25 percent"),
        ("rss091.xml", "Mountain village wins fight to keep its school", "Valdoro"),
        ("atom03.xml", "City council approves bike lane network", "protected bike lanes"),
    ],
)
def test_older_formats(name: str, title: str, phrase: str) -> None:
    feed = parse_feed(fixture(name), url=f"{BASE}/{name}")
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == title
    assert phrase in entry.text
    assert entry.link and entry.link.startswith(BASE)


def test_rss091_without_dates_leaves_published_empty() -> None:
    entry = parse_feed(fixture("rss091.xml")).entries[0]
    assert entry.published is None


def test_json_feed_1_1_html_and_text_items() -> None:
    feed = parse_feed(
        fixture("feed.json"),
        url=f"{BASE}/feed.json",
        headers={"Content-Type": "application/feed+json"},
    )
    assert feed.title == "Greenfield Courier"
    library, ferry = feed.entries
    assert library.guid == "courier-77"
    assert library.link == f"{BASE}/local/telescopes"
    assert "reflecting telescopes" in library.text and "<p>" not in library.text
    assert ferry.text.count("\n\n") >= 4  # content_text paragraphs kept
    assert ferry.published == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_json_feed_1_0_detected_without_content_type() -> None:
    feed = parse_feed(fixture("feed10.json"))
    assert [e.title for e in feed.entries] == ["Museum returns stolen painting to its owners"]


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>hello</body></html>", b"not a feed at all", b'{"items": []}', b"{oops"],
)
def test_non_feeds_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(body)


def test_internal_entity_declarations_are_stripped() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + b"A" * 10_000 + b'">]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>&big;&big;&big;</title>'
        b"<link>http://news.example/a</link><description>body</description></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(bomb)
    assert all(len(entry.title) < 1000 for entry in feed.entries)


def test_seed_file_header_and_title() -> None:
    entry = parse_article_file(REPO / "seeds" / "000_ca6e4b03c859531f.txt")
    assert entry.published == datetime(2021, 6, 27, tzinfo=UTC)
    assert entry.title.startswith("U.S. forces conducted airstrikes")
    assert not entry.text.startswith("date")
    assert entry.link and entry.link.startswith("file://")


def test_untitled_article_headline_skips_byline_and_dateline(tmp_path: Path) -> None:
    article = tmp_path / "mail.txt"
    article.write_text(
        "By . Jane Reporter . PUBLISHED: . 09:12 EST, 14 March 2014 . | . "
        "A pensioner saved three children from a fire. She was given a medal.\n",
        encoding="utf-8",
    )
    wire = tmp_path / "wire.txt"
    wire.write_text("LONDON (Reuters) - Markets fell on Monday.\n", encoding="utf-8")
    assert parse_article_file(article).title.startswith("A pensioner saved three children")
    assert parse_article_file(wire).title == "Markets fell on Monday."


def test_folder_of_plain_and_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Just a body. With two sentences.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(
        "date 2025-03-01 12:30 briefing\n# A markdown headline\n\nBody text here.\n",
        encoding="utf-8",
    )
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    feed = parse_folder(tmp_path)
    plain, markdown = feed.entries
    assert plain.published is None and plain.title == "Just a body. With two sentences."
    assert markdown.title == "A markdown headline"
    assert markdown.published == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert markdown.text == "Body text here."


def test_missing_folder_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        parse_folder(tmp_path / "absent")


# --- hostile documents ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(HOSTILE_FEEDS) - {"many-attributes"}))
def test_hostile_documents_parse_bounded_or_fail_cleanly(name: str) -> None:
    case = HOSTILE_FEEDS[name]()
    if case.titles is None:
        with pytest.raises(ParseError):
            parse_feed(case.body, headers={"Content-Type": case.content_type})
        return
    feed = parse_feed(case.body, headers={"Content-Type": case.content_type})
    if case.titles:
        assert tuple(entry.title for entry in feed.entries) == case.titles
    assert len(feed.entries) <= MAX_ENTRIES
    for entry in feed.entries:
        assert len(entry.title) <= TITLE_LIMIT
        assert len(entry.text) <= MAX_TEXT_CHARS
        for expanded in ("AAAAAAAAAA", "BBBBBBBBBB", "lollollol", "root:"):
            assert expanded not in entry.title + entry.text


@pytest.mark.parametrize(("codec", "bom"), ENTITY_BOMB_ENCODINGS)
def test_entity_declarations_are_stripped_in_every_unicode_encoding(codec: str, bom: bool) -> None:
    feed = parse_feed(entity_bomb(codec, bom))
    (entry,) = feed.entries
    assert "A" * 10 not in entry.title
    assert feed.title == "Hostile"


def test_strip_declarations_keeps_the_document_and_defuses_every_keyword() -> None:
    document = (
        '<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE rss PUBLIC "-//x//EN" "x.dtd" [\n'
        '  <!ENTITY a "]>">\n  <!-- ]> -->\n  <!ENTITY % p "<!ENTITY b \'x\'>">\n]>\n'
        "<rss><item><description><![CDATA[<!DOCTYPE x [ y ]]></description>"
        "<!-- <!ENTITY c 'z'> --><!ENT<!ENTITY d 'w'>ITY e 'v'></item></rss>"
    )
    stripped = strip_declarations(document)
    assert "<!doctype" not in stripped.lower() and "<!entity" not in stripped.lower()
    assert stripped.startswith('<?xml version="1.0"?>\n<!-- a comment -->\n \n<rss>')
    assert "<![CDATA[  x [ y ]]></description>" in stripped


def test_a_body_that_names_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(rss(item("TOKEN=hunter2", "secret")), encoding="utf-8")
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode())


def test_only_the_newest_entries_are_kept() -> None:
    feed = parse_feed(many_items(MAX_ENTRIES + 500))
    assert len(feed.entries) == MAX_ENTRIES
    titles = [entry.title for entry in feed.entries]
    assert titles == [f"Item {n}" for n in range(500, MAX_ENTRIES + 500)]


def test_long_texts_are_cut_at_a_boundary() -> None:
    paragraph = "<p>" + "word " * 1000 + "</p>"
    feed = parse_feed(rss(item("Long", "long", paragraph * 100)).encode())
    text = feed.entries[0].text
    assert len(text) <= MAX_TEXT_CHARS
    assert text.endswith("word")
