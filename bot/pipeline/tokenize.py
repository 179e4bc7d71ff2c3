"""Sentence and word splitting on syntok (rule-based; needs no NLTK data).

:class:`NewsTokenizer` is the tokenizer object handed to sumy in place of its own
``sumy.nlp.tokenizers.Tokenizer``, which loads NLTK's punkt models and so cannot run here.
"""

from __future__ import annotations

import re

from syntok.segmenter import segment
from syntok.tokenizer import Tokenizer

__all__ = ["NewsTokenizer", "split_sentences", "split_words"]

_LINE_BREAK = re.compile(r"(?<!\s)\s*\n\s*+")  # tried from a space run's start: linear
_WORD_CHAR = re.compile(r"\w")
_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:['’.\-][^\W_]+)*")
_SUMY_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’-])*$")
_TITLES = frozenset(
    [
        "Gov",
        "Govs",
        "Rep",
        "Reps",
        "Sens",
        "Lt",
        "Sgt",
        "Cpl",
        "Pvt",
        "Maj",
        "Rev",
        "Hon",
        "Det",
        "Insp",
        "Supt",
        "Supt",
        "Cmdr",
        "Atty",
        "Gens",
        "Messrs",
        "Amb",
        "Pres",
        "Mme",
        "Mlle",
    ]
)
"""Titles syntok does not know: a sentence never ends right after one of them."""


def split_sentences(text: str, tokenizer: Tokenizer | None = None) -> list[str]:
    """Split ``text`` into sentences; every line break is a hard sentence break.

    Abbreviations ("Dr.", "U.S."), decimals and closing quotes stay inside their sentence.
    The returned sentences are exact, whitespace-trimmed slices of their line.
    """
    tokenizer = tokenizer or Tokenizer(replace_not_contraction=False)
    sentences: list[str] = []
    for line in _LINE_BREAK.split(text):
        if not line.strip():
            continue
        spans: list[tuple[int, int]] = []
        ends_with_title = False
        for tokens in segment(tokenizer.tokenize(line)):
            values = [t for t in tokens if t.value]
            if not values:
                continue
            start, end = values[0].offset, values[-1].offset + len(values[-1].value)
            if spans and (ends_with_title or not _WORD_CHAR.search(line[start:end])):
                # "Gov." + "Abbott said." or a stray closing mark: one sentence.
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            ends_with_title = (
                len(values) >= 2 and values[-1].value == "." and values[-2].value in _TITLES
            )
        sentences.extend(
            sentence
            for sentence in (line[start:end].strip() for start, end in spans)
            if _WORD_CHAR.search(sentence)
        )
    return sentences


def split_words(text: str) -> list[str]:
    """Split ``text`` into word tokens; punctuation is dropped.

    A word is a run of letters/digits that may hold inner apostrophes, hyphens or dots:
    "don't", "well-known", "U.S", "3.5" are one word each.
    """
    return _WORD.findall(text)


class NewsTokenizer:
    """A sumy-compatible tokenizer (``to_sentences``, ``to_words``, ``language``).

    ``to_words`` keeps what sumy's own tokenizer keeps: alphabetic words, possibly with
    inner hyphens or apostrophes (numbers and punctuation are dropped).
    """

    __slots__ = ("_language", "_tokenizer")

    def __init__(self, language: str = "english") -> None:
        self._language = language
        self._tokenizer = Tokenizer(replace_not_contraction=False)

    @property
    def language(self) -> str:
        """The language name sumy uses for stop words and stemming."""
        return self._language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """The sentences of ``paragraph``, in order."""
        return tuple(split_sentences(paragraph, self._tokenizer))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """The words of ``sentence`` that sumy should rate."""
        return tuple(word for word in split_words(sentence) if _SUMY_WORD.match(word))
