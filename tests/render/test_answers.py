"""Story cards, recaps and answers built from hostile feed text stay plain text: no pings,
no markup, no hidden characters, links only written out and only http(s)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.answers import Answer, Quote, Recap, RecapStory
from bot.render.answers import (
    StoryCard,
    answer_page,
    developing_line,
    recap_pages,
    render_recap,
    story_card_embed,
)
from tests.render.discord_model import hidden_character_problems, markup_problems

WHEN = datetime(2026, 12, 2, 14, 2, tzinfo=UTC)
HOSTILE = "@everyone [bank.example](https://evil.example) **bold** <@123> \u202eevil"


def quote(text: str = HOSTILE, url: str = "javascript:alert(1)") -> Quote:
    return Quote(
        text=text + " and then more words follow here.",
        article_id="a1",
        title=HOSTILE,
        url=url,
        source_name=HOSTILE,
        published_at=WHEN,
        position=0,
    )


def test_story_card_from_hostile_text_is_plain_and_shows_its_status() -> None:
    card = StoryCard(
        headline=HOSTILE,
        url="javascript:alert(1)",
        summary=(HOSTILE,),
        sources=(HOSTILE, "Wire"),
        updated_at=WHEN,
        new=quote(),
    )
    embed = story_card_embed(card)
    assert "url" not in embed
    for text in (embed["title"], embed["description"]):
        assert markup_problems(text.replace("**New:**", "New:")) == []
        assert hidden_character_problems(text) == []
    assert embed["footer"]["text"] == "2 sources · updated 14:02 UTC"
    quiet = story_card_embed(StoryCard("t", "", (), ("A",), WHEN, quiet=True))
    assert quiet["footer"]["text"].startswith("this story has gone quiet · 1 source")


def test_developing_line() -> None:
    assert developing_line(4, WHEN) == "developing · 4 sources · updated 14:02"


def test_recap_and_answer_lines_quote_plainly_and_write_only_safe_links() -> None:
    lines = (quote(url="https://news.example/a"), quote(url="javascript:alert(1)"))
    recap = Recap("query", 7, (RecapStory("s", HOSTILE, lines, (HOSTILE,)),))
    [page] = recap_pages(recap)
    assert "<https://news.example/a>" in page.content
    assert "javascript" not in page.content
    body = page.content.replace("**Recap**", "Recap").replace("**", "")
    assert not [p for p in markup_problems(body) if "'<'" not in p]
    assert "@everyone" not in page.content.replace("@\u200beveryone", "")
    answer = answer_page(Answer(HOSTILE, lines, 3))
    assert "javascript" not in answer.content
    assert "<@123>" not in answer.content
    nothing = answer_page(Answer("who won", (), 12))
    assert nothing.content.startswith("I found nothing that answers")
    assert "2026-12-02" in render_recap(recap)
