"""Sentence splitting, the sumy tokenizer adapter and the summary contract."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.lex_rank import LexRankSummarizer

from bot.pipeline.summarize import (
    ALGORITHMS,
    StoryDocument,
    Summarizer,
    Summary,
    summary_length,
)
from bot.pipeline.tokenize import NewsTokenizer, split_sentences, split_words

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "000_ca6e4b03c859531f.txt"

ARTICLE = (
    "The city council approved a new budget on Tuesday after months of debate. "
    "The plan raises spending on schools by 4.5% and cuts the road repair fund. "
    "Mayor Jane Doe said the vote was a victory for families. "
    '"We listened to parents," she told reporters outside City Hall. '
    "Opponents argued the cuts would leave potholes unrepaired for another winter. "
    "The budget takes effect on July 1 and runs through June of next year. "
    "Council member Tom Lee voted against it, citing the road fund. "
    "A final reading is scheduled for next week."
)


def seed_article() -> str:
    """The seed article without its ``date YYYY-MM-DD ...`` header line."""
    return SEED.read_text(encoding="utf-8").split("\n", 1)[1]


class TestSplitSentences:
    def test_abbreviations_do_not_end_sentences(self) -> None:
        text = "Dr. Smith met Gov. Abbott in the U.S. capital. Mr. Jones left at 3 p.m. Friday."
        assert split_sentences(text) == [
            "Dr. Smith met Gov. Abbott in the U.S. capital.",
            "Mr. Jones left at 3 p.m. Friday.",
        ]

    def test_decimals_and_initialisms(self) -> None:
        text = "The U.S. economy grew 2.5% in the quarter. Growth in the U.K. was slower."
        assert split_sentences(text) == [
            "The U.S. economy grew 2.5% in the quarter.",
            "Growth in the U.K. was slower.",
        ]

    def test_closing_quotes_stay_with_their_sentence(self) -> None:
        text = '"It is over," he said. "We won." Then he left. “Curly quotes.” Fine.'
        assert split_sentences(text) == [
            '"It is over," he said.',
            '"We won."',
            "Then he left.",
            "“Curly quotes.”",
            "Fine.",
        ]

    def test_newlines_and_paragraphs_are_hard_breaks(self) -> None:
        text = "Headline without a stop\nFirst line goes on\n\nSecond paragraph. Another one!"
        assert split_sentences(text) == [
            "Headline without a stop",
            "First line goes on",
            "Second paragraph.",
            "Another one!",
        ]

    def test_question_and_exclamation(self) -> None:
        assert split_sentences("Why now? Because! Yes.") == ["Why now?", "Because!", "Yes."]

    @pytest.mark.parametrize("text", ["", "   ", "\n\n", " . ", "--"])
    def test_no_sentences_without_words(self, text: str) -> None:
        assert split_sentences(text) == []

    def test_sentences_are_slices_of_the_text(self) -> None:
        for sentence in split_sentences(ARTICLE):
            assert sentence in ARTICLE


class TestSplitWords:
    def test_punctuation_dropped_inner_marks_kept(self) -> None:
        assert split_words("Don't stop the U.S. at 3.5% -- it's well-known; 1,000 votes!") == [
            "Don't",
            "stop",
            "the",
            "U.S",
            "at",
            "3.5",
            "it's",
            "well-known",
            "1,000",
            "votes",
        ]

    def test_empty(self) -> None:
        assert split_words(" -- !") == []


class TestNewsTokenizer:
    def test_sumy_interface(self) -> None:
        tokenizer = NewsTokenizer()
        assert tokenizer.language == "english"
        assert tokenizer.to_sentences("Dr. Who came. He left.") == ("Dr. Who came.", "He left.")
        assert tokenizer.to_words("It's 3 o'clock, Dr. Who!") == ("It's", "o'clock", "Dr", "Who")

    def test_sumy_parser_and_summarizer_accept_it(self) -> None:
        parser = PlaintextParser.from_string(ARTICLE, NewsTokenizer("english"))
        picked = LexRankSummarizer()(parser.document, 2)
        assert len(parser.document.sentences) == 8
        assert len(picked) == 2


class TestSummaryLength:
    @pytest.mark.parametrize(
        ("sentences", "wanted", "expected"),
        [(0, 3, 0), (1, 3, 1), (2, 3, 1), (3, 3, 2), (4, 3, 3), (40, 3, 3), (5, 5, 4), (1, 1, 1)],
    )
    def test_rule(self, sentences: int, wanted: int, expected: int) -> None:
        assert summary_length(sentences, wanted) == expected


class TestSummarizer:
    def test_unknown_algorithm_and_bad_count_raise(self) -> None:
        with pytest.raises(ValueError, match="unknown algorithm"):
            Summarizer(algorithm="gpt")
        with pytest.raises(ValueError, match="at least 1"):
            Summarizer(sentences=0)

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_every_algorithm_keeps_the_contract(self, algorithm: str) -> None:
        summarizer = Summarizer(algorithm=algorithm)
        summary = summarizer.summarize(ARTICLE, title="Council approves school budget")
        assert isinstance(summary, Summary)
        assert summary.sentence_count == 8
        assert len(summary.sentences) == 3
        assert list(summary.indices) == sorted(set(summary.indices))
        all_sentences = split_sentences(ARTICLE)
        assert summary.sentences == tuple(all_sentences[i] for i in summary.indices)
        assert summarizer.summarize(ARTICLE, title="Council approves school budget") == summary

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_short_articles_are_never_returned_whole(self, algorithm: str) -> None:
        summarizer = Summarizer(algorithm=algorithm)
        one = summarizer.summarize("Only one sentence here.")
        assert one.sentences == ("Only one sentence here.",)
        two = summarizer.summarize("The vote passed. The mayor signed it.")
        assert len(two.sentences) == 1
        three = summarizer.summarize("The vote passed. The mayor signed it. It takes effect.")
        assert len(three.sentences) == 2
        assert three.sentence_count == 3

    def test_empty_article(self) -> None:
        assert Summarizer().summarize("  \n ") == Summary((), (), 0)

    def test_sentence_count_is_configurable(self) -> None:
        assert len(Summarizer(sentences=5).summarize(ARTICLE).sentences) == 5
        assert len(Summarizer(sentences=1).summarize(ARTICLE).sentences) == 1

    def test_seed_article(self) -> None:
        summary = Summarizer().summarize(seed_article())
        assert len(summary.sentences) == 3
        assert summary.sentence_count > 3
        assert not summary.sentences[0].startswith("(Bloomberg)")


class TestStory:
    def test_sentences_know_their_article(self) -> None:
        other = (
            "Schools will get more money under the budget passed by the council. "
            "Teachers welcomed the 4.5% rise. "
            "Road crews warned of delays to pothole repairs this winter. "
            "The mayor is expected to sign the budget within days."
        )
        story = Summarizer().summarize_story(
            [StoryDocument("a", "", ARTICLE), StoryDocument("b", "", other)]
        )
        assert len(story) == 3
        assert story[0].article_id == "a"
        for item in story:
            source = ARTICLE if item.article_id == "a" else other
            assert split_sentences(source)[item.index] == item.text
        keys = [(item.article_id != "a", item.index) for item in story]
        assert keys == sorted(keys)

    def test_empty_story(self) -> None:
        assert Summarizer().summarize_story([]) == ()


def test_runs_without_any_nltk_data(tmp_path: Path) -> None:
    """Every algorithm works with NLTK_DATA pointing at an empty folder, where sumy's own
    punkt-based tokenizer cannot even be built."""
    script = textwrap.dedent(
        """
        import sys
        from sumy.nlp.tokenizers import Tokenizer
        from bot.pipeline.summarize import ALGORITHMS, Summarizer
        try:
            Tokenizer("english")
        except LookupError:
            pass
        else:
            sys.exit("punkt data is available: the test proves nothing")
        text = open(sys.argv[1], encoding="utf-8").read().split("\\n", 1)[1]
        for algorithm in ALGORITHMS:
            summary = Summarizer(algorithm=algorithm).summarize(text)
            assert len(summary.sentences) == 3, (algorithm, summary)
        print("ok", len(ALGORITHMS))
        """
    )
    empty = tmp_path / "nltk_data"
    empty.mkdir()
    env = {
        **os.environ,
        "NLTK_DATA": str(empty),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-c", script, str(SEED)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", str(len(ALGORITHMS))]
