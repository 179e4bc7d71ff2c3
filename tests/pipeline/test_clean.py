"""Boilerplate removal before summarising."""

from __future__ import annotations

import pytest

from bot.pipeline.clean import clean_text, is_boilerplate, is_caption_or_heading
from bot.pipeline.summarize import Summarizer


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("(CNN)Share, and your gift will grow.", "Share, and your gift will grow."),
        ("(CNN) -- The plane landed.", "The plane landed."),
        ("LONDON (Reuters) - Shares fell.", "Shares fell."),
        ("(Bloomberg) — U.S. forces struck.", "U.S. forces struck."),
        ("WASHINGTON (AP) — The Senate voted.", "The Senate voted."),
        ("Hong Kong (CNN)The city voted.", "The city voted."),
        ("Sanaa, Yemen (CNN) -- Rebels advanced.", "Rebels advanced."),
        ("(The Hollywood Reporter)The show returns.", "The show returns."),
        ("NEW YORK — Stocks rose.", "Stocks rose."),
        ("March 10, 2015 . We visit Italy.", "We visit Italy."),
    ],
)
def test_datelines_are_removed(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


@pytest.mark.parametrize(
    "kept",
    [
        "Athletics Kenya (AK) issued the ban.",
        "John Smith (R-Texas) said no.",
        "By the end of the day the rally was over.",
        "The (Reuters) report was cited.",
    ],
)
def test_ordinary_sentences_are_kept(kept: str) -> None:
    assert clean_text(kept) == kept


def test_bylines_and_timestamps_are_removed() -> None:
    assert clean_text("By Jane Doe, CNN\nThe plane landed.") == "The plane landed."
    assert clean_text("By Jane Doe\n\nThe plane landed.") == "The plane landed."
    daily_mail = (
        "By . Sam Webb . PUBLISHED: . 10:55 EST, 28 February 2013 . | . "
        "UPDATED: . 11:01 EST, 28 February 2013 . A man was arrested."
    )
    assert clean_text(daily_mail) == "A man was arrested."


@pytest.mark.parametrize(
    "header",
    [
        "By . Mark Duell . Last updated at 5:04 PM on 2nd March 2012 . ",
        "Last updated at 10:39 AM on 21st November 2011 . ",
        "By . Associated Press . and Daily Mail Reporter . PUBLISHED: . 14:11 EST, "
        "25 October 2013 . | . UPDATED: . 15:36 EST, 25 October 2013 . ",
        "By Associated Press . Published: . 19:25 EST, 31 October 2013 . | . "
        "Updated: . 19:25 EST, 31 October 2013 . ",
        "By . Sophie Jane Evans . Created: 13:05 EST, 2 October 2012 . ",
        "By DAILY MAIL REPORTER . ",
        "By Jane Doe For Mailonline\n\nPublished: 10:21 EDT, 3 June 2023 | "
        "Updated: 11:02 EDT, 3 June 2023\n\n",
    ],
)
def test_daily_mail_headers_are_removed(header: str) -> None:
    assert clean_text(header + "A man was hurt.") == "A man was hurt."


def test_captions_and_headings_are_dropped_in_the_released_layout() -> None:
    text = (
        "The bishop of Fargo was ill. Bishop John Folda (pictured) of the Fargo Catholic "
        "Diocese has exposed hundreds to hepatitis A . Officials say the risk is low. "
        "Mr. Smith (left) with his wife Jane at the church on Sunday . "
        "Heartbroken: The congregation at the service this week . Searching blind . "
        "Share this article . The church reopens on Monday."
    )
    assert clean_text(text) == (
        "The bishop of Fargo was ill.\nOfficials say the risk is low.\n"
        "The church reopens on Monday."
    )


def test_captions_and_headings_are_dropped_from_web_paragraphs() -> None:
    text = (
        "A man was hurt when a crane fell in Leeds on Monday.\n\n"
        "The crane, pictured before it fell, was 40 metres tall\n\n"
        "Scroll down for video\n\nWhat happened next\n\n"
        "Rescue: Firefighters reach the cab in the city centre\n\n"
        "He was taken to hospital and is said to be stable."
    )
    assert clean_text(text) == (
        "A man was hurt when a crane fell in Leeds on Monday.\n\n"
        "He was taken to hospital and is said to be stable."
    )


def test_unpunctuated_body_sentences_are_kept_with_a_full_stop() -> None:
    text = (
        "CNN approached the Ministry of Defence for comment but is yet to receive a "
        "response . Police said: 'It was fine' . It ended."
    )
    assert clean_text(text) == (
        "CNN approached the Ministry of Defence for comment but is yet to receive a "
        "response.\nPolice said: 'It was fine'\nIt ended."
    )


def test_a_line_wrapped_after_a_comma_is_not_a_heading() -> None:
    text = "In the men's 800m heats,\nJoel Jutge of France won in a season's best time."
    assert clean_text(text) == text


def test_a_text_of_headings_only_is_kept_rather_than_emptied() -> None:
    assert clean_text("Minister resigns over scandal") == "Minister resigns over scandal."


@pytest.mark.parametrize(
    ("paragraph", "furniture"),
    [
        ("The couple, pictured together in 2010, had been married for 20 years", True),
        ("Jane Doe (right) and her sister Mary at the premiere in London on Friday", True),
        ("Tragic: The family home in Kent where the fire started on Sunday night", True),
        ("Inspections", True),
        ("Police said: the man was arrested at his home on Friday night after a chase", False),
        ("The council voted to close the library after a long and bitter dispute", False),
    ],
)
def test_is_caption_or_heading(paragraph: str, furniture: bool) -> None:
    assert is_caption_or_heading(paragraph) is furniture


def test_prompts_and_photo_credits_are_removed() -> None:
    text = (
        "A dog was rescued (Photo: Getty Images) on Monday. Scroll down for video . "
        "It was unharmed.\nImage copyright AFP\nRead more: Dogs of the year .\nVets agreed."
    )
    assert clean_text(text) == "A dog was rescued on Monday. It was unharmed.\n\nVets agreed."


@pytest.mark.parametrize(
    "sentence",
    [
        "Click here to access the transcript.",
        "We use cookies to improve your experience on our site.",
        "By continuing to browse you agree to our use of cookies.",
        "Sign up for our daily newsletter to get the news in your inbox.",
        "Subscribe to our newsletter.",
        "CNN's Jane Doe contributed to this report.",
        "The views expressed in this commentary are solely those of the writer.",
        "All rights reserved.",
        "Follow us on Twitter for updates.",
        "Hero: Jane Doe, 67, was given the award at a ceremony on Friday .",
        "Opinion: Why the vote matters .",
        "Close call: The bus stopped inches from the river .",
    ],
)
def test_boilerplate_sentences(sentence: str) -> None:
    assert is_boilerplate(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "The bakery sold 500 cookies on Monday.",
        "Readers can sign the petition online.",
        "The court will publish its ruling next week.",
        "Police said: 'Nobody was hurt in the chase' .",
        "The reason: the inmate's views could create unrest.",
    ],
)
def test_news_sentences_are_not_boilerplate(sentence: str) -> None:
    assert not is_boilerplate(sentence)


def test_summaries_are_built_from_cleaned_text() -> None:
    text = (
        "By . Daily Mail Reporter . PUBLISHED: . 04:40 EST, 3 March 2013 . | . "
        "UPDATED: . 06:34 EST, 3 March 2013 . "
        "A man who stole a fire engine was jailed for two years on Friday. "
        "Scroll down for video . "
        "The 34-year-old drove the engine through the town centre at night. "
        "Police said nobody was hurt in the chase. "
        "Click here to watch the chase. "
        "The engine was returned to the station the next morning. "
        "We use cookies to improve your experience."
    )
    summary = Summarizer().summarize(text)
    assert summary.sentence_count == 4
    assert (
        summary.sentences[0] == "A man who stole a fire engine was jailed for two years on Friday."
    )
    joined = " ".join(summary.sentences)
    for furniture in ("PUBLISHED", "Daily Mail Reporter", "Scroll down", "Click here", "cookies"):
        assert furniture not in joined
