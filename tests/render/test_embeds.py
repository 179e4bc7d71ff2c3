"""Discord pages and embeds: within Discord's limits whatever the feeds say, and harmless."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import (
    SNIPPET_END,
    SNIPPET_START,
    Article,
    Briefing,
    SearchHit,
    Story,
    SummarySentence,
)
from bot.render.embeds import (
    MessagePage,
    articles_page,
    briefing_pages,
    embed_length,
    search_pages,
    split_content,
    story_embed,
    summary_embed,
)
from tests.render.discord_model import hidden_character_problems, markup_problems

WHEN = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

# Discord's documented limits, restated here so the test does not trust the code under test.
LIMITS = {
    "content": 2000,
    "title": 256,
    "description": 4096,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "fields": 25,
    "embeds": 10,
    "total": 6000,
}


def embed_size(embed: dict[str, Any]) -> int:
    """Characters counted towards the 6000 per message, checking each part's own limit."""
    size = 0
    for key, limit in (("title", "title"), ("description", "description")):
        if key in embed:
            assert 1 <= len(embed[key]) <= LIMITS[limit], key
            size += len(embed[key])
    if "footer" in embed:
        assert 1 <= len(embed["footer"]["text"]) <= LIMITS["footer"]
        size += len(embed["footer"]["text"])
    if "author" in embed:
        assert 1 <= len(embed["author"]["name"]) <= LIMITS["author"]
        size += len(embed["author"]["name"])
    fields = embed.get("fields", [])
    assert len(fields) <= LIMITS["fields"]
    for field in fields:
        assert 1 <= len(field["name"]) <= LIMITS["field_name"]
        assert 1 <= len(field["value"]) <= LIMITS["field_value"]
        size += len(field["name"]) + len(field["value"])
    if "url" in embed:
        assert embed["url"].startswith(("https://", "http://"))
    if "color" in embed:
        assert 0 <= embed["color"] <= 0xFFFFFF
    if "timestamp" in embed:
        assert datetime.fromisoformat(embed["timestamp"]).tzinfo is not None
    return size


def check_pages(pages: list[MessagePage]) -> None:
    """Every page is a message Discord accepts and whose text reads as plain text."""
    assert pages
    for page in pages:
        assert page.content or page.embeds
        assert len(page.content) <= LIMITS["content"]
        assert len(page.embeds) <= LIMITS["embeds"]
        assert sum(embed_size(embed) for embed in page.embeds) <= LIMITS["total"]
        json.dumps([page.content, page.embeds], ensure_ascii=False).encode("utf-8")
        for text in [page.content, *(e.get("title", "") for e in page.embeds)]:
            assert markup_problems(text.replace("**", "")) == []
        for embed in page.embeds:
            for text in (embed.get("description", ""), embed.get("footer", {}).get("text", "")):
                assert hidden_character_problems(text) == []
                assert "@everyone" not in text.lower()
                assert "@here" not in text.lower()


def article(
    number: int,
    source: str = "Harbor Gazette",
    *,
    title: str = "Harbor reopens",
    url: str | None = None,
    text: str = "The harbor reopened on Monday. Ships queued overnight.",
    summary: tuple[str, ...] | None = None,
) -> Article:
    return Article(
        id=f"a{number}",
        url=url if url is not None else f"https://news.example/{number}",
        title=title,
        source_name=source,
        feed_id=1,
        published_at=WHEN,
        first_seen_at=WHEN,
        text=text,
        language="en",
        text_is_teaser=False,
        backfill=False,
        story_id=f"s{number}",
        summary=summary,
        sentence_count=len(summary) if summary else None,
    )


def story(
    number: int = 1,
    *,
    title: str = "Harbor reopens after storm",
    url: str = "https://news.example/harbor",
    sources: tuple[str, ...] = ("Harbor Gazette",),
    sentences: tuple[str, ...] = ("The harbor reopened on Monday.", "Ships queued overnight."),
    sentence_count: int = 41,
) -> Story:
    articles = tuple(article(number * 100 + i, source) for i, source in enumerate(sources))
    return Story(
        id=f"s{number}",
        title=title,
        url=url,
        published_at=WHEN - timedelta(minutes=number),
        articles=articles,
        summary=tuple(SummarySentence(text, articles[0].id, sources[0]) for text in sentences),
        sentence_count=sentence_count,
    )


# -- properties -------------------------------------------------------------------------------

_PIECES = ["@everyone ", "<@&123>", "[a](https://evil.example)", "# ", "\n", "*", "\u202e", "x"]
huge_text = st.tuples(
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from(_PIECES)), max_size=6).map("".join),
    st.integers(min_value=1, max_value=700),
).map(lambda parts: parts[0] * parts[1])

stories = st.builds(
    lambda number, title, url, sources, sentences, count: story(
        number,
        title=title,
        url=url,
        sources=tuple(sources),
        sentences=tuple(sentences),
        sentence_count=count,
    ),
    number=st.integers(min_value=1, max_value=1000),
    title=huge_text,
    url=st.one_of(st.just("https://news.example/x"), st.text(max_size=30), huge_text),
    sources=st.lists(huge_text, min_size=1, max_size=40),
    sentences=st.lists(huge_text, max_size=12),
    count=st.integers(min_value=0, max_value=10_000),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(stories, max_size=30),
    st.one_of(st.none(), huge_text),
    st.booleans(),
    st.integers(min_value=1, max_value=720),
)
def test_any_briefing_fits_discord_limits(
    items: list[Story], topic: str | None, fallback: bool, hours: int
) -> None:
    briefing = Briefing(stories=tuple(items), hours=hours, topic=topic, fallback=fallback)
    pages = briefing_pages(briefing, colour=0x2B6CB0)
    check_pages(pages)
    embeds = [embed for page in pages for embed in page.embeds]
    assert len(embeds) == len(items)
    for item, embed in zip(items, embeds, strict=True):
        assert embed_length(embed) == embed_size(embed)
        lead = item.sources[0]
        if any(name.isalnum() and name != lead for name in item.sources[1:]):
            assert embed["description"].splitlines()[-1].startswith("also reported by ")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(huge_text, huge_text, st.text(max_size=40)), max_size=25), huge_text)
def test_any_search_result_fits_discord_limits(
    results: list[tuple[str, str, str]], query: str
) -> None:
    hits = [
        SearchHit(article(n, source, title=title), 1.0, snippet)
        for n, (title, source, snippet) in enumerate(results)
    ]
    check_pages(search_pages(query, hits))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(huge_text, huge_text, st.lists(huge_text, max_size=6)), max_size=25))
def test_any_latest_list_fits_discord_limits(items: list[tuple[str, str, list[str]]]) -> None:
    articles = [
        article(n, source, title=title, text=title, summary=tuple(summary) or None)
        for n, (title, source, summary) in enumerate(items)
    ]
    check_pages(articles_page(articles, "Latest"))


@settings(max_examples=40, deadline=None)
@given(huge_text, st.text(max_size=40), st.lists(huge_text, max_size=8))
def test_any_summary_embed_fits_discord_limits(title: str, url: str, sentences: list[str]) -> None:
    embed = summary_embed(title, url, sentences, 99)
    check_pages([MessagePage(content="", embeds=(embed,))])


@settings(max_examples=200)
@given(
    st.lists(st.one_of(st.text(max_size=30), st.sampled_from(["\n", "\n\n", ". ", " "]))).map(
        "".join
    ),
    st.integers(min_value=1, max_value=120),
)
def test_split_content_keeps_everything_in_chunks_that_fit(text: str, limit: int) -> None:
    chunks = split_content(text, limit)
    assert all(0 < len(chunk) <= limit for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


# -- stories ----------------------------------------------------------------------------------


def test_story_embed_has_linked_title_summary_provenance_and_sources() -> None:
    embed = story_embed(
        story(sources=("Harbor Gazette", "Daily Post", "Coast Radio")), colour=0x2B6CB0
    )
    assert embed["title"] == "Harbor reopens after storm"
    assert embed["url"] == "https://news.example/harbor"
    assert embed["description"] == (
        "The harbor reopened on Monday. Ships queued overnight.\n\n"
        "via Harbor Gazette · 2 of 41 sentences\n"
        "also reported by Daily Post, Coast Radio"
    )
    assert embed["footer"] == {"text": "Harbor Gazette · Daily Post · Coast Radio"}
    assert embed["timestamp"] == "2024-05-01T07:59:00+00:00"
    assert embed["color"] == 0x2B6CB0


def test_hostile_headline_renders_as_harmless_text() -> None:
    headline = "@everyone <@&123> [https://bank.example](https://evil.example) # Heading"
    embed = story_embed(story(title=headline, sentences=(headline,)))
    assert embed["title"] == (
        "@\u200beveryone \\<@\u200b&123> \\[https://bank.example](https://evil.example) # Heading"
    )
    assert markup_problems(embed["title"]) == []
    assert markup_problems(embed["description"]) == []


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///srv/seeds/harbor.txt", "urn:newsbot:1", ""]
)
def test_unsafe_or_local_links_are_dropped(url: str) -> None:
    embed = story_embed(story(url=url))
    assert "url" not in embed
    assert embed["title"] == "Harbor reopens after storm"


def test_long_summary_is_cut_at_a_sentence_boundary() -> None:
    sentences = tuple(
        f"Sentence {n} tells more about the harbor and the storm." for n in range(200)
    )
    assert sum(map(len, sentences)) >= 10_000
    embed = story_embed(story(sentences=sentences, sentence_count=300))
    summary, provenance = embed["description"].split("\n\n")
    assert len(embed["description"]) <= 4096
    assert summary.endswith("storm.")
    shown = summary.count("Sentence ")
    assert provenance == f"via Harbor Gazette · {shown} of 300 sentences"


def test_one_huge_summary_text_is_cut_at_a_sentence_boundary() -> None:
    text = "The storm closed the harbor for three days. " * 250
    assert len(text) >= 10_000
    embed = summary_embed("Storm", "https://news.example/storm", [text], 1)
    assert len(embed["description"]) <= 4096
    assert embed["description"].endswith("three days.")
    assert embed["footer"] == {"text": "1 of 1 sentence"}


def test_story_without_summary_or_title() -> None:
    embed = story_embed(story(title="  ", sentences=()))
    assert embed["title"] == "(untitled)"
    assert "description" not in embed


def test_naive_publication_time_is_read_as_utc() -> None:
    naive = Story(
        id="s",
        title="t",
        url="https://x.example/",
        published_at=datetime(2024, 1, 2, 3, 4),
        articles=(article(1),),
    )
    assert story_embed(naive)["timestamp"] == "2024-01-02T03:04:00+00:00"


def test_colour_must_be_rgb() -> None:
    with pytest.raises(ValueError, match="24-bit"):
        story_embed(story(), colour=0x1000000)


def test_many_sources_are_summed_up() -> None:
    sources = tuple(f"Source number {n}" for n in range(100))
    embed = story_embed(story(sources=sources))
    also = embed["description"].splitlines()[-1]
    assert also.startswith("also reported by Source number 1, Source number 2")
    assert also.endswith(" more")
    assert len(also) <= 320
    assert embed["footer"]["text"].endswith(" more")


# -- briefings --------------------------------------------------------------------------------


def test_twenty_three_stories_make_three_pages() -> None:
    briefing = Briefing(stories=tuple(story(n) for n in range(1, 24)), hours=24)
    pages = briefing_pages(briefing)
    assert [len(page.embeds) for page in pages] == [10, 10, 3]
    assert pages[0].content == "**Briefing** · 23 stories · last 24 hours · page 1 of 3"
    assert pages[2].content == "**Briefing** (continued) · page 3 of 3"
    check_pages(pages)


def test_big_stories_split_pages_by_total_size() -> None:
    sentences = tuple(
        f"Sentence {n} about the harbor and what the storm did there." for n in range(60)
    )
    briefing = Briefing(stories=tuple(story(n, sentences=sentences) for n in range(1, 5)), hours=24)
    pages = briefing_pages(briefing)
    assert [len(page.embeds) for page in pages] == [1, 1, 1, 1]
    check_pages(pages)


def test_briefing_header_names_the_topic_safely() -> None:
    briefing = Briefing(stories=(story(),), hours=48, topic="ports @everyone")
    [page] = briefing_pages(briefing)
    assert page.content == "**Briefing** · 1 story about “ports @\u200beveryone” · last 2 days"


def test_fallback_briefing_says_so() -> None:
    [page] = briefing_pages(Briefing(stories=(story(),), hours=24, fallback=True))
    assert page.content == "Nothing new in the last 24 hours — the latest stories instead"
    assert len(page.embeds) == 1


def test_empty_briefing_is_one_page_without_embeds() -> None:
    assert briefing_pages(Briefing(stories=(), hours=24)) == [
        MessagePage(content="No stories yet.", embeds=())
    ]
    [page] = briefing_pages(Briefing(stories=(), hours=24, topic="ferries"))
    assert page.content == "No stories about “ferries” yet."


# -- latest, search, summarize ----------------------------------------------------------------


def test_latest_articles_show_summary_or_excerpt() -> None:
    articles = [
        article(1, summary=("The harbor reopened.", "Ships queued.")),
        article(2, "Daily Post", title="Ferry *delays*", url="data:text/html,x"),
    ]
    [page] = articles_page(articles, "Latest from everyone")
    assert page.content == "**Latest from everyone**"
    first, second = page.embeds
    assert first["description"] == "The harbor reopened. Ships queued."
    assert first["footer"] == {"text": "Harbor Gazette"}
    assert second["title"] == "Ferry \\*delays\\*"
    assert "url" not in second
    assert second["description"] == "The harbor reopened on Monday. Ships queued overnight."
    assert articles_page([], "Latest") == [MessagePage(content="No articles yet.", embeds=())]


def test_search_snippet_bolds_matches_after_sanitising() -> None:
    snippet = f"…the {SNIPPET_START}harbor{SNIPPET_END} is *open* [x](https://evil.example)…"
    [page] = search_pages("harbor", [SearchHit(article(1), 2.5, snippet)])
    assert page.content == "1 result for “harbor”"
    assert page.embeds[0]["description"] == (
        "…the **harbor** is \\*open\\* \\[x](https://evil.example)…"
    )


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (f"@{SNIPPET_START}{SNIPPET_END}everyone", "@\u200beveryone"),
        (f"{SNIPPET_START}a{SNIPPET_END}{SNIPPET_START}b{SNIPPET_END}", "**ab**"),
        (f"x {SNIPPET_START}open", "x **open**"),
        (f"stray{SNIPPET_END} end {SNIPPET_START} {SNIPPET_END}!", "stray end !"),
        (f"{SNIPPET_START}**bold**{SNIPPET_END}", "**\\*\\*bold\\*\\***"),
    ],
)
def test_snippet_markers_cannot_be_abused(snippet: str, expected: str) -> None:
    [page] = search_pages("q", [SearchHit(article(1), 1.0, snippet)])
    assert page.embeds[0]["description"] == expected


def test_search_without_hits() -> None:
    assert search_pages("<@1>", []) == [
        MessagePage(content="No articles match “\\<@\u200b1>”.", embeds=())
    ]


def test_summary_embed_lists_sentences_and_compression() -> None:
    embed = summary_embed("Harbor", "https://news.example/h", ["One thing.", "Another."], 12)
    assert embed == {
        "type": "rich",
        "title": "Harbor",
        "url": "https://news.example/h",
        "description": "One thing.\n\nAnother.",
        "footer": {"text": "2 of 12 sentences"},
    }


# -- plain text -------------------------------------------------------------------------------


def test_split_content_prefers_paragraphs_then_sentences() -> None:
    text = "The first paragraph is right here.\n\n" + "A sentence. " * 10 + "\n\nLast."
    assert split_content(text, 60) == [
        "The first paragraph is right here.",
        "A sentence. A sentence. A sentence. A sentence. A sentence.",
        "A sentence. A sentence. A sentence. A sentence. A sentence.",
        "Last.",
    ]


def test_split_content_hard_cuts_never_split_an_escape() -> None:
    chunks = split_content("a" * 9 + "\\*" * 10, 10)
    assert chunks[0] == "a" * 9
    assert all(not chunk.startswith("*") for chunk in chunks)


def test_split_content_short_and_empty_text() -> None:
    assert split_content("Hello.") == ["Hello."]
    assert split_content("   ") == []
    with pytest.raises(ValueError, match="positive"):
        split_content("x", 0)
