"""Sentences as evidence: which sentences of an article can be quoted, what each one says
(its content stems and names), and how much a sentence adds to what was already said.

Pure and sync. ``/ask`` ranks quotable sentences against a question, ``/recap`` keeps the
sentences that add a fact, a followed story's "New:" line quotes the most novel one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from nltk.stem.snowball import SnowballStemmer
from sumy.utils import get_stop_words

from bot.pipeline.clean import clean_text, is_boilerplate
from bot.pipeline.tokenize import split_sentences, split_words

__all__ = [
    "Evidence",
    "SentenceReader",
    "article_sentences",
    "novelty",
    "paragraphs",
    "quotable_in",
    "quotable_sentences",
    "redundancy",
    "windows",
]

MIN_WORDS = 6
MAX_WORDS = 70
_NAME = re.compile(r"^[A-Z][\w'’-]*$")
_DIGIT = re.compile(r"\d")
_ROUGH_END = re.compile(r"[.!?][\"'”’)]*\s+")


def article_sentences(text: str) -> list[str]:
    """Every sentence of an article's cleaned text, in order."""
    return split_sentences(clean_text(text))


def paragraphs(text: str) -> list[tuple[int, str]]:
    """The article's non-blank paragraphs (lines of its cleaned text) with their position."""
    return [
        (position, line)
        for position, line in enumerate(clean_text(text).split("\n"))
        if line.strip()
    ]


def quotable_in(paragraph: str) -> list[str]:
    """The sentences of one paragraph a reader could be quoted: page furniture and fragments
    left out (splitting into sentences is the costly part of reading evidence)."""
    return [
        sentence
        for sentence in split_sentences(paragraph)
        if MIN_WORDS <= len(split_words(sentence)) <= MAX_WORDS and not is_boilerplate(sentence)
    ]


def windows(paragraph: str, keep: Callable[[str], bool], *, long: int = 600) -> list[str]:
    """The parts of a long paragraph worth splitting into sentences: each rough sentence
    (cut at ". " and the like) that ``keep`` accepts, with one rough sentence on either side
    so that a false cut ("Mr. Smith") cannot leave a fragment. Short paragraphs stay whole."""
    if len(paragraph) <= long:
        return [paragraph] if keep(paragraph) else []
    cuts = [0, *(match.end() for match in _ROUGH_END.finditer(paragraph)), len(paragraph)]
    pieces = list(pairwise(cuts))
    wanted = [i for i, (start, end) in enumerate(pieces) if keep(paragraph[start:end])]
    spans: list[list[int]] = []
    for index in wanted:
        start, end = max(index - 1, 0), min(index + 1, len(pieces) - 1)
        if spans and start <= spans[-1][1] + 1:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [paragraph[pieces[first][0] : pieces[last][1]].strip() for first, last in spans]


def quotable_sentences(text: str) -> list[tuple[int, str]]:
    """The article's quotable sentences, each with its paragraph's position (0: the first)."""
    return [
        (position, sentence)
        for position, paragraph in paragraphs(text)
        for sentence in quotable_in(paragraph)
    ]


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
