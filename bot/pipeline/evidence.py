"""Sentences as evidence: which sentences of an article can be quoted, what each one says
(its content stems and names), and how much a sentence adds to what was already said.

Pure and sync. ``/ask`` ranks quotable sentences against a question, ``/recap`` keeps the
sentences that add a fact, a followed story's "New:" line quotes the most novel one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer
from sumy.utils import get_stop_words

from bot.pipeline.clean import clean_text, is_boilerplate
from bot.pipeline.tokenize import split_sentences, split_words

__all__ = [
    "Evidence",
    "SentenceReader",
    "novelty",
    "quotable_sentences",
    "redundancy",
]

MIN_WORDS = 6
MAX_WORDS = 70
_NAME = re.compile(r"^[A-Z][\w'’-]*$")
_DIGIT = re.compile(r"\d")


def quotable_sentences(text: str) -> list[tuple[int, str]]:
    """The article's sentences a reader could be quoted, with their position among all the
    article's sentences (0 is the first): page furniture and fragments left out."""
    quotable = []
    for position, sentence in enumerate(split_sentences(clean_text(text))):
        words = len(split_words(sentence))
        if MIN_WORDS <= words <= MAX_WORDS and not is_boilerplate(sentence):
            quotable.append((position, sentence))
    return quotable


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a sentence says: its content stems, and the names and numbers in it."""

    text: str
    terms: frozenset[str]
    names: frozenset[str]
    """Stems of capitalised words inside the sentence (not its first word)."""
    has_number: bool


class SentenceReader:
    """Reads sentences into :class:`Evidence` (stems cached; one per service)."""

    def __init__(self) -> None:
        self._stop = frozenset(get_stop_words("english"))
        stemmer = SnowballStemmer("english")
        self._stem = lru_cache(maxsize=65536)(stemmer.stem)

    def terms(self, text: str) -> frozenset[str]:
        """The content stems of ``text`` (stop words and one-letter words left out)."""
        return frozenset(self._content(split_words(text)))

    def read(self, sentence: str) -> Evidence:
        """The evidence of one sentence."""
        words = split_words(sentence)
        names = frozenset(
            self._stem(word.casefold())
            for word in words[1:]
            if _NAME.match(word) and word.casefold() not in self._stop
        )
        return Evidence(
            text=sentence,
            terms=frozenset(self._content(words)),
            names=names,
            has_number=bool(_DIGIT.search(sentence)),
        )

    def _content(self, words: Iterable[str]) -> Iterable[str]:
        for word in words:
            folded = word.casefold()
            if len(folded) > 1 and folded not in self._stop:
                yield self._stem(folded)


def novelty(terms: frozenset[str], seen: frozenset[str]) -> float:
    """The share of ``terms`` not in ``seen`` (1.0: all new; 0.0: nothing new)."""
    if not terms:
        return 0.0
    return len(terms - seen) / len(terms)


def redundancy(lines: Sequence[frozenset[str]]) -> float:
    """The highest cosine similarity between any two lines' term sets (0 with fewer than
    two lines): how much a list of lines repeats itself."""
    worst = 0.0
    for index, first in enumerate(lines):
        for second in lines[index + 1 :]:
            if first and second:
                shared = len(first & second)
                worst = max(worst, shared / math.sqrt(len(first) * len(second)))
    return worst
