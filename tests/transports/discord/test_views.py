"""The page book behind Previous/Next buttons, and the buttons' ids and states."""

from __future__ import annotations

from bot.render.embeds import MessagePage
from bot.transports.discord.views import PageBook, PageButton, page_controls, page_text

PAGES = [MessagePage(content=f"page {n}", embeds=()) for n in range(3)]


def test_book_forgets_the_oldest_beyond_its_capacity() -> None:
    book = PageBook(capacity=2)
    first, second, third = (book.add(owner, PAGES) for owner in (1, 2, 3))
    assert book.get(first) is None
    assert book.get(second).owner_id == 2  # type: ignore[union-attr]
    assert book.get(third).pages == tuple(PAGES)  # type: ignore[union-attr]


def test_book_entries_expire_after_their_lifetime() -> None:
    now = [0.0]
    book = PageBook(lifetime=60, clock=lambda: now[0])
    key = book.add(7, PAGES)
    now[0] = 59
    assert book.get(key) is not None
    now[0] = 61
    assert book.get(key) is None


def test_controls_name_the_page_each_button_shows() -> None:
    key = PageBook().add(1, PAGES)
    first, middle, last = (page_controls(key, index, 3).children for index in range(3))
    assert [(b.custom_id, b.item.disabled) for b in first] == [  # type: ignore[attr-defined]
        (f"pages:{key}:previous:0", True),
        (f"pages:{key}:next:1", False),
    ]
    assert [b.custom_id for b in middle] == [  # type: ignore[attr-defined]
        f"pages:{key}:previous:0",
        f"pages:{key}:next:2",
    ]
    assert [b.item.disabled for b in last] == [False, True]  # type: ignore[attr-defined]
    match = PageButton.__discord_ui_compiled_template__.fullmatch(f"pages:{key}:next:2")
    assert match is not None and match["key"] == key


def test_page_text_has_the_footer() -> None:
    assert page_text(PAGES[1], 1, 3) == "page 1\n-# Page 2 of 3"
