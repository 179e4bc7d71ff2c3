"""Properties of the "news" ranker and of story (multi-article) summaries."""

from __future__ import annotations

import numpy as np
import pytest

from bot.pipeline.rank import (
    FEATURES,
    NewsRanker,
    RankedArticle,
    is_dangling,
    load_default_scorer,
)
from bot.pipeline.summarize import StoryDocument, Summarizer
from bot.pipeline.tokenize import split_sentences

ARTICLE = (
    "Flooding forced thousands of residents from their homes in northern Italy on Sunday. "
    "Rivers burst their banks after three days of heavy rain across the Po valley. "
    "Emergency crews rescued 200 people by boat, the civil protection agency said. "
    "He said the situation was under control. "
    "Schools in 40 towns will stay closed on Monday. "
    "Farmers warned that the harvest could be lost. "
    "The government promised 50 million euros in emergency aid. "
    "More rain is forecast for Tuesday. "
    "Officials urged people to avoid travel. "
    "Local football matches were postponed."
)


@pytest.mark.parametrize(
    ("sentence", "dangling"),
    [
        ("He said the plan failed.", True),
        ("But the vote went ahead.", True),
        ("They left early.", True),
        ("This was the first time.", True),
        ("said the minister, adding more.", True),
        ('as he put it."', True),
        ('"We will win," she said.', False),
        ("The council voted on Monday.", False),
        ("Heavy rain fell.", False),
        ("I think so, she said.", False),
    ],
)
def test_is_dangling(sentence: str, dangling: bool) -> None:
    assert is_dangling(sentence) is dangling


def test_shipped_scorer_matches_the_features() -> None:
    scorer = load_default_scorer()
    ranker = NewsRanker(str.lower, frozenset({"the", "a", "of"}), scorer)
    columns, vectors, _ = ranker.features(split_sentences(ARTICLE), "Floods in Italy")
    assert columns.shape == (10, len(FEATURES))
    assert vectors.shape[0] == 10
    assert np.isfinite(scorer.score(columns)).all()


def test_summary_is_in_article_order_and_deterministic() -> None:
    summarizer = Summarizer()
    first = summarizer.summarize(ARTICLE)
    assert list(first.indices) == sorted(first.indices)
    assert Summarizer().summarize(ARTICLE) == first


def test_redundant_copies_are_not_both_chosen() -> None:
    sentences = split_sentences(ARTICLE)
    doubled = " ".join(
        [sentences[0], sentences[0].replace("Sunday", "Sunday night"), *sentences[1:]]
    )
    summary = Summarizer().summarize(doubled)
    assert len(summary.sentences) == 3
    assert not (0 in summary.indices and 1 in summary.indices)


def test_select_skips_near_duplicates_and_a_dangling_opening() -> None:
    sentences = (
        "He said the river had never been so high.",
        "The river reached a record height on Sunday.",
        "The river reached a record height on Sunday night.",
        "Rescuers worked through the night.",
        "Schools stay shut.",
    )
    vectors = np.eye(5)
    ranked = RankedArticle(sentences, (3.0, 2.9, 2.8, 2.5, 2.2), vectors)
    assert NewsRanker.select(ranked, 2) == [1, 3]
    assert NewsRanker.select(ranked, 3) == [1, 3, 4]


def test_dangling_opening_is_kept_when_nothing_comparable_exists() -> None:
    sentences = ("He won the race.", "The race was long.", "It rained.")
    ranked = RankedArticle(sentences, (5.0, 0.0, -1.0), np.eye(3))
    assert NewsRanker.select(ranked, 1) == [0]


def test_headline_overlap_raises_a_sentence() -> None:
    ranker = NewsRanker(str.lower, frozenset(), load_default_scorer())
    sentences = split_sentences(ARTICLE)
    plain = ranker.rank(sentences).scores
    titled = ranker.rank(sentences, "Football matches postponed").scores
    assert titled[9] > plain[9]
    assert titled[0] == pytest.approx(plain[0], abs=1.0)


def test_story_summary_drops_sentences_repeated_across_articles() -> None:
    copy = ARTICLE.replace("on Sunday", "on Sunday, officials said")
    story = Summarizer().summarize_story(
        [StoryDocument("wire", "Floods in Italy", ARTICLE), StoryDocument("copy", "", copy)]
    )
    assert len(story) == 3
    assert {item.article_id for item in story} == {"wire"}
    texts = [item.text for item in story]
    assert len(set(texts)) == 3


def test_story_summary_takes_new_facts_from_other_articles() -> None:
    other = (
        "Flooding forced thousands of residents from their homes in northern Italy on Sunday. "
        "A dam near Parma was at risk of collapse, engineers warned late on Sunday."
    )
    story = Summarizer(sentences=4).summarize_story(
        [StoryDocument("a", "", ARTICLE), StoryDocument("b", "", other)]
    )
    assert story[0].article_id == "a"
    assert sum(item.text.startswith("Flooding forced") for item in story) <= 1
    order = [(item.article_id != "a", item.index) for item in story]
    assert order == sorted(order)
