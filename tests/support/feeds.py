"""Feeds generated in tests: N items about a subject, with stable links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape


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
    """One made-up item about ``subject``."""
    return (
        f"{subject.title()} update number {number}",
        f"{base}/{subject.replace(' ', '-')}/{number}",
        f"Officials gave {subject} update number {number} on Monday. "
        f"It follows earlier reports about {subject}. More details are expected this week.",
    )
