"""Feeds generated in tests: N distinct items about a subject, with stable links."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ner",
    "sto",
    "val",
    "dri",
    "pen",
    "qua",
    "ros",
    "tu",
    "bel",
    "gar",
    "hin",
    "jor",
    "lex",
    "mor",
    "nax",
    "pol",
    "sen",
    "tar",
    "ven",
    "wil",
    "zed",
    "cro",
    "fen",
)


def _word(pick: random.Random) -> str:
    return "".join(pick.choice(_SYLLABLES) for _ in range(pick.randint(3, 4)))


def rss(title: str, items: Sequence[tuple[str, str, str]], *, when: datetime | None = None) -> str:
    """An RSS 2.0 document; each item is (title, link, description)."""
    stamp = format_datetime(when or datetime.now(UTC), usegmt=True)
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{stamp}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for t, link, text in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>"
        f"<description>generated</description>{body}</channel></rss>"
    )


def story(subject: str, number: int, base: str) -> tuple[str, str, str]:
    """One made-up item mentioning ``subject`` once; every other word is an invented name
    drawn for this item, so different numbers are different events that never cluster."""
    pick = random.Random(f"{subject}:{number}")
    names = [_word(pick).title() for _ in range(6)]
    words = [_word(pick) for _ in range(30)]
    title = f"{names[0]} {words[0]} {subject} {words[1]} {names[1]}"
    text = (
        f"{names[2]} {words[2]} {words[3]} {subject} {words[4]} {names[3]} {words[5]}. "
        + " ".join(words[6:18]).capitalize()
        + f" {names[4]}. "
        + " ".join(words[18:]).capitalize()
        + f" {names[5]}."
    )
    return title, f"{base}/{subject.replace(' ', '-')}/{number}", text
