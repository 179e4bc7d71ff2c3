"""The sanitiser: feed text never pings, links, formats or hides characters in Discord."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.sanitize import (
    URL_LIMIT,
    safe_excerpt,
    safe_line,
    safe_plain,
    safe_text,
    safe_title,
    safe_url,
    truncate_sentences,
)
from tests.render.discord_model import hidden_character_problems, markup_problems

_TRICKS = [
    "@everyone",
    "@EveryOne",
    "@here",
    "@",
    "everyone",
    "here",
    "<@",
    "<@!",
    "<@&",
    "<#",
    "</",
    "<t:",
    "<a:",
    "<:",
    ">",
    ">>>",
    "<",
    "123456789012345678",
    "[",
    "]",
    "(",
    ")",
    "](",
    "https://",
    "http://x.example/",
    "https://bank.example",
    "steam://",
    "*",
    "**",
    "_",
    "__",
    "~~",
    "||",
    "`",
    "```",
    "#",
    "## ",
    "-# ",
    "- ",
    "+ ",
    "1. ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\\",
    ".",
    ":",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u061c",
    "\x00",
    "\x02",
    "\x03",
    "\x1b",
    "\x85",
    "\r",
    "\t",
    "\u2028",
    "\ud800",
]

tricky_text = st.lists(st.one_of(st.sampled_from(_TRICKS), st.text(max_size=6)), max_size=40).map(
    "".join
)


def _assert_harmless(text: str) -> None:
    assert markup_problems(text) == []
    assert hidden_character_problems(text) == []


@settings(max_examples=400)
@given(tricky_text)
def test_safe_text_output_reads_as_plain_text(text: str) -> None:
    out = safe_text(text)
    _assert_harmless(out)
    assert len(out) <= 3 * len(text)


@settings(max_examples=300)
@given(tricky_text, st.integers(min_value=1, max_value=300))
def test_safe_title_is_one_harmless_line_within_the_limit(text: str, limit: int) -> None:
    out = safe_title(text, limit)
    _assert_harmless(out)
    assert "\n" not in out
    assert len(out) <= limit


@given(tricky_text, st.integers(min_value=1, max_value=300))
def test_safe_plain_has_no_pings_or_hidden_characters(text: str, limit: int) -> None:
    out = safe_plain(text, limit)
    assert hidden_character_problems(out) == []
    assert "@everyone" not in out.lower()
    assert "@here" not in out.lower()
    assert "\n" not in out
    assert len(out) <= limit


long_tricky_text = st.tuples(tricky_text, st.integers(min_value=1, max_value=40)).map(
    lambda parts: parts[0] * parts[1]
)


@settings(max_examples=200)
@given(long_tricky_text, st.integers(min_value=1, max_value=120))
def test_huge_text_is_sanitised_from_a_prefix_with_the_same_result(text: str, limit: int) -> None:
    whole = safe_line(text)
    head = safe_line(text, limit)
    assert head[: limit + 1] == whole[: limit + 1]
    assert (len(head) <= limit) == (len(whole) <= limit)
    assert safe_excerpt(text, limit) == truncate_sentences(whole, limit)


def test_headline_with_pings_masked_link_and_heading_reads_as_typed() -> None:
    headline = "@everyone <@&123> [https://bank.example](https://evil.example) # Heading"
    out = safe_text(headline)
    assert out == (
        "@\u200beveryone \\<@\u200b&123> \\[https://bank.example](https://evil.example) # Heading"
    )
    _assert_harmless(out)


def test_masked_link_without_bare_urls_is_escaped() -> None:
    assert safe_text("[click here](evil)") == "\\[click here](evil)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Big\n## Less\n### Small\n-# subtext", "\\# Big\n\\## Less\n\\### Small\n\\-# subtext"),
        ("> quoted\n>>> all of it", "\\> quoted\n\\>>> all of it"),
        ("- item\n+ item\n* item\n2024. A year", "\\- item\n\\+ item\n\\* item\n2024\\. A year"),
        ("**bold** __under__ ~~gone~~ ||secret|| `code`", None),
        ("a > b - c # d", "a > b - c # d"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_markdown_is_escaped_where_it_changes_meaning(text: str, expected: str | None) -> None:
    out = safe_text(text)
    if expected is not None:
        assert out == expected
    _assert_harmless(out)
    assert out.replace("\\", "") == text.replace("\\", "")


@pytest.mark.parametrize(
    "text",
    ["<@123456789012345678>", "<@!1>", "<@&1>", "<#1>", "</news:1>", "<t:1700000000:R>", "<:e:1>"],
)
def test_mention_and_timestamp_syntax_shows_as_text(text: str) -> None:
    out = safe_text(text)
    assert out.startswith("\\<")
    _assert_harmless(out)


def test_bare_links_stay_clickable() -> None:
    text = "Read https://example.com/a_b*c?x=[1] now."
    assert safe_text(text) == "Read https://example.com/a_b*c?x=%5B1] now."


def test_link_followed_by_angle_bracket_cannot_swallow_the_escape() -> None:
    out = safe_text("https://example.com/x<#123>")
    assert out == "https://example.com/x \\<#123>"
    _assert_harmless(out)


def test_bidi_zero_width_and_control_characters_are_removed() -> None:
    text = "pay\u202e\u2066lapyap\u2069\u200b\u200d\u2060\ufeff\x00\x07 now\r\nok"
    assert safe_text(text) == "paylapyap now\nok"


def test_inserted_zero_width_space_only_follows_at_signs() -> None:
    out = safe_text("@here and @\u200beveryone and a\u200bb")
    assert out == "@\u200bhere and @\u200beveryone and ab"


def test_blank_lines_are_collapsed_and_text_trimmed() -> None:
    assert safe_text("  one\n\n\n\n two  \n") == "one\n\n two"


def test_safe_title_cuts_at_a_word_boundary() -> None:
    out = safe_title("word " * 100)
    assert len(out) <= 256
    assert out.endswith("word…")


def test_safe_title_never_ends_in_a_dangling_escape() -> None:
    out = safe_title("a" * 9 + "*" * 20, 12)
    assert len(out) <= 12
    _assert_harmless(out)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "ftp://example.com/x",
        "//example.com/x",
        "https:///path",
        "https://",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://exam\u202eple.com/",
        "https://bank.example@evil.example/",
        "https://evil.example\\@bank.example/",
        "https://example.com:99999/",
        "https://" + "a" * URL_LIMIT + ".com",
        "",
    ],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("  https://example.com/  ", "https://example.com/"),
        ("https://bücher.example/päth", "https://xn--bcher-kva.example/p%C3%A4th"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        ("https://example.com/a|b{c}%zz", "https://example.com/a%7Cb%7Bc%7D%25zz"),
    ],
)
def test_safe_urls_are_normalised(url: str, expected: str) -> None:
    assert safe_url(url) == expected


@given(st.text(max_size=80))
def test_safe_url_returns_only_http_links_with_a_host(text: str) -> None:
    for candidate in (text, "https://" + text, "http://example.com/" + text):
        out = safe_url(candidate)
        if out is None:
            continue
        parts = urlsplit(out)
        assert parts.scheme in ("http", "https")
        assert parts.hostname
        assert len(out) <= URL_LIMIT
        assert out.isascii()
        assert not any(ch.isspace() or ord(ch) < 0x20 or ch in '\\<>"`' for ch in out)


def test_truncate_sentences_cuts_a_long_text_at_a_sentence_end() -> None:
    text = "".join(f"Sentence number {n} says something about the harbor. " for n in range(200))
    assert len(text) >= 10_000
    out = truncate_sentences(text, 4000)
    assert len(out) <= 4000
    assert out.endswith("harbor.")
    assert text.startswith(out)


def test_truncate_sentences_falls_back_to_words() -> None:
    text = "one two three four five six seven eight nine ten " * 5
    out = truncate_sentences(text, 30)
    assert out == "one two three four five six…"


def test_truncate_sentences_keeps_short_text() -> None:
    assert truncate_sentences("Short. Text.", 100) == "Short. Text."
    assert truncate_sentences("Anything", 0) == ""


@given(st.text(max_size=300), st.integers(min_value=0, max_value=200))
def test_truncate_sentences_fits_and_keeps_a_prefix(text: str, limit: int) -> None:
    out = truncate_sentences(text, limit)
    assert len(out) <= limit
    assert text.startswith(out.removesuffix("…"))
