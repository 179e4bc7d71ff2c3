"""The HTML-to-text reader and the rules every stored text follows, on friendly and hostile
input."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import SNIPPET_END, SNIPPET_START
from bot.pipeline.text import clean_inline, html_to_text

ALLOWED_CONTROLS = {"\n"}
INVISIBLE = set(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)


def assert_storable(text: str) -> None:
    """What every stored text promises."""
    for char in text:
        code = ord(char)
        assert not (code < 0x20 and char not in ALLOWED_CONTROLS), repr(char)
        assert not 0x7F <= code <= 0x9F, repr(char)
        assert not 0xD800 <= code <= 0xDFFF, repr(char)
        assert char not in INVISIBLE, repr(char)
    text.encode("utf-8")  # no lone surrogates: SQLite can store it


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("Line<br>break<br/>again", "Line\nbreak\nagain"),
        ("<div>A &amp; B &lt;tag&gt; &eacute;&#233;&#xe9;</div>", "A & B <tag> ééé"),
        ("<script>alert('<p>x</p>')</script>kept", "kept"),
        ("<STYLE>p { color: red }</STYLE>kept", "kept"),
        ("<svg><text>drawn</text></svg>kept", "kept"),
        ("<svg/>kept", "kept"),
        ("a <!-- hidden <p>x</p> --> b", "a b"),
        ("<a href='x>y' title=\"q\">link</a> text", "link text"),
        ("3 < 4 and 5 > 4", "3 < 4 and 5 > 4"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("<![CDATA[gone]]>kept", "kept"),
        ("  spaced \t\u00a0 out  ", "spaced out"),
    ],
)
def test_markup_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("kept <!-- never closed <p>gone</p>", "kept"),
        ("kept <script>never closed", "kept"),
        ("kept <a href='never closed>gone", "kept"),
        ("kept <b", "kept"),
    ],
)
def test_unclosed_constructs_run_to_the_end(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    "unit",
    ["<!--", "<b", '<a x="', "<a x='", "<!DOCTYPE", "<script>", "</", "<?", "&#", "<p "],
)
def test_inputs_that_make_html_parser_quadratic_are_read_in_one_pass(unit: str) -> None:
    # 400 KB of these took Python's html.parser minutes; this finishes at once.
    text = html_to_text("start " + unit * (400_000 // len(unit)) + " end")
    assert text.startswith("start")


def test_control_characters_are_removed_so_snippet_markers_stay_unambiguous() -> None:
    markup = f"<p>a{SNIPPET_START}b{SNIPPET_END}c\x00d\x1be\x7ff\x85g\x9fh</p>"
    text = html_to_text(markup)
    assert SNIPPET_START not in text and SNIPPET_END not in text
    assert text == "abcdef\ngh"
    assert clean_inline(f"x{SNIPPET_START}y\x0bz\u2028w") == "xy z w"


def test_bidi_overrides_zero_width_and_lone_surrogates_are_removed() -> None:
    title = "\u202egnp.exe\u202c \u200bsafe\ufeff \ud800name"
    assert clean_inline(title) == "gnp.exe safe name"
    assert_storable(html_to_text(f"<p>{title}</p>"))


def test_clean_inline_is_one_line() -> None:
    assert clean_inline("  Breaking:\n\n  news \r\n here\t ") == "Breaking: news here"


# --- properties -------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
"""Every code point, lone surrogates included."""
MARKUP = st.lists(
    st.one_of(
        ANY_TEXT,
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<br>",
                "<script>",
                "</script>",
                "<!--",
                "-->",
                "<b",
                '"',
                "'",
                ">",
                "<",
                "&amp;",
                "&#0;",
                "&#x202e;",
                "&#xd800;",
                "<svg>",
                "</svg>",
                "<![CDATA[",
                "]]>",
            ]
        ),
    ),
    max_size=40,
).map("".join)


@given(MARKUP)
def test_any_markup_gives_storable_normalised_text(markup: str) -> None:
    text = html_to_text(markup)
    assert_storable(text)
    assert text == text.strip()
    assert "\n\n\n" not in text
    assert all(line == line.strip() for line in text.split("\n"))
    assert "  " not in text


@given(MARKUP)
def test_reading_escaped_output_gives_it_back(markup: str) -> None:
    text = html_to_text(markup)
    assert html_to_text(html.escape(text)) == text


@given(ANY_TEXT)
def test_clean_inline_is_one_storable_line_and_idempotent(text: str) -> None:
    line = clean_inline(text)
    assert_storable(line)
    assert "\n" not in line
    assert "  " not in line
    assert clean_inline(line) == line


@given(st.text(alphabet="ab1 \t\n\u00e9\u4e2d", max_size=300))
def test_text_without_markup_keeps_its_words(text: str) -> None:
    assert html_to_text(text).split() == text.split()
