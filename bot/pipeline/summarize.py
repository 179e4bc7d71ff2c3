"""Extractive summaries of one article or of a story told by several articles.

``Summarizer(algorithm="news")`` (the default) uses :class:`bot.pipeline.rank.NewsRanker`;
the other algorithms are sumy's, run on our syntok-based tokenizer (sumy's own tokenizer
needs NLTK data we do not have), plus "lead" (the first sentences). Text is cleaned of
boilerplate first. Everything here is pure and synchronous: run it off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from bot.pipeline.clean import clean_text, is_boilerplate
from bot.pipeline.rank import NewsRanker, load_default_scorer
from bot.pipeline.tokenize import NewsTokenizer, split_sentences

__all__ = [
    "ALGORITHMS",
    "MAX_SUMMARY_CHARS",
    "MAX_SUMMARY_SENTENCES",
    "ResidentSummarizer",
    "StoryDocument",
    "StorySentence",
    "Summarizer",
    "Summary",
    "article_paragraphs",
    "lead_summary",
    "summary_length",
]

MAX_SUMMARY_CHARS = 30_000
"""Characters of an article the summariser reads (the longest of 1,500 real articles in
``shared/data`` has 23,304): text beyond is never cleaned, split or ranked."""
MAX_SUMMARY_SENTENCES = 400
"""Sentences of an article the summariser ranks (the most in those articles is 201). Ranking
compares sentences pairwise, so this cap bounds its memory (400 x 400 floats: 1.3 MB)."""

ALGORITHMS: tuple[str, ...] = ("news", "lexrank", "textrank", "lsa", "luhn", "edmundson", "lead")

_SUMY_CLASSES = {
    "lexrank": LexRankSummarizer,
    "textrank": TextRankSummarizer,
    "lsa": LsaSummarizer,
    "luhn": LuhnSummarizer,
}
_EDMUNDSON_BONUS = [
    "announced",
    "announce",
    "confirmed",
    "killed",
    "dead",
    "died",
    "arrested",
    "charged",
    "new",
    "first",
    "president",
    "government",
    "police",
    "official",
    "officials",
    "report",
    "study",
    "court",
]
_EDMUNDSON_STIGMA = [
    "hardly",
    "perhaps",
    "maybe",
    "allegedly",
    "apparently",
    "reportedly",
    "click",
    "subscribe",
]
_LEAD_ARTICLE_WEIGHT = 1.0
_OTHER_ARTICLE_WEIGHT = 0.8
_STORY_REDUNDANCY = 0.5


@dataclass(frozen=True, slots=True)
class Summary:
    """An extractive summary of one article."""

    sentences: tuple[str, ...]
    """The chosen sentences, in article order."""
    indices: tuple[int, ...]
    """Their positions in the cleaned article's sentence list."""
    sentence_count: int
    """Sentences in the cleaned article."""


@dataclass(frozen=True, slots=True)
class StoryDocument:
    """One article of a story, as :meth:`Summarizer.summarize_story` takes it."""

    article_id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class StorySentence:
    """One sentence of a story summary and the article it came from."""

    article_id: str
    text: str
    index: int
    """Position in that article's cleaned sentence list."""


def summary_length(sentence_count: int, wanted: int) -> int:
    """How many sentences to take from an article of ``sentence_count`` sentences.

    ``wanted`` when the article is longer; otherwise one fewer than the article has (a
    summary is never the whole article), but at least one.
    """
    if sentence_count <= 0:
        return 0
    if sentence_count > wanted:
        return wanted
    return max(1, sentence_count - 1)


LEAD_CHARS = 2_000
"""Characters :func:`lead_summary` reads."""


def lead_summary(text: str, wanted: int) -> Summary:
    """The first ``wanted`` sentences of the article's first ``LEAD_CHARS`` characters,
    uncleaned and unranked: the cheap stand-in when summarising failed."""
    sentences = split_sentences(text[:LEAD_CHARS])
    count = summary_length(len(sentences), wanted)
    return Summary(tuple(sentences[:count]), tuple(range(count)), len(sentences))


def article_paragraphs(text: str) -> list[list[str]]:
    """The cleaned article as paragraphs of sentences, boilerplate sentences dropped; only
    its first ``MAX_SUMMARY_CHARS`` characters and ``MAX_SUMMARY_SENTENCES`` sentences."""
    paragraphs = []
    room = MAX_SUMMARY_SENTENCES
    for block in clean_text(text[:MAX_SUMMARY_CHARS]).split("\n\n"):
        sentences = [s for s in split_sentences(block) if not is_boilerplate(s)][:room]
        if sentences:
            paragraphs.append(sentences)
            room -= len(sentences)
        if room == 0:
            break
    return paragraphs


class Summarizer:
    """Extractive summariser; build one and reuse it (it holds sumy objects and caches)."""

    __slots__ = ("_algorithm", "_count", "_language", "_ranker", "_sumy", "_tokenizer")

    def __init__(
        self, sentences: int = 3, algorithm: str = "news", language: str = "english"
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {ALGORITHMS}")
        if sentences < 1:
            raise ValueError(f"sentences must be at least 1, not {sentences}")
        self._count = sentences
        self._algorithm = algorithm
        self._language = language
        self._tokenizer = NewsTokenizer(language)
        stemmer = Stemmer(language)
        stop_words = frozenset(get_stop_words(language))
        self._ranker = NewsRanker(stemmer, stop_words, load_default_scorer())
        self._sumy = None
        if algorithm in _SUMY_CLASSES:
            self._sumy = _SUMY_CLASSES[algorithm](stemmer)
            self._sumy.stop_words = stop_words
        elif algorithm == "edmundson":
            edmundson = EdmundsonSummarizer(stemmer)
            edmundson.null_words = stop_words
            edmundson.bonus_words = _EDMUNDSON_BONUS
            edmundson.stigma_words = _EDMUNDSON_STIGMA
            self._sumy = edmundson

    @property
    def algorithm(self) -> str:
        """The algorithm this summariser runs."""
        return self._algorithm

    @property
    def config(self) -> tuple[int, str, str]:
        """(sentences, algorithm, language): what makes an equal summariser."""
        return (self._count, self._algorithm, self._language)

    @property
    def sentences(self) -> int:
        """How many sentences a summary has (fewer for short articles)."""
        return self._count

    def summarize(self, text: str, title: str = "") -> Summary:
        """Summarise one article (``title`` helps the "news" and "edmundson" rankers)."""
        paragraphs = article_paragraphs(text)
        sentences = [s for paragraph in paragraphs for s in paragraph]
        wanted = summary_length(len(sentences), self._count)
        indices = self._choose(paragraphs, sentences, title, wanted)
        return Summary(
            sentences=tuple(sentences[i] for i in indices),
            indices=tuple(indices),
            sentence_count=len(sentences),
        )

    def summarize_story(self, articles: Sequence[StoryDocument]) -> tuple[StorySentence, ...]:
        """A non-redundant summary of one event told by several articles.

        Takes up to the configured number of sentences in total, preferring the lead
        (first) article, skipping sentences that repeat one already taken; ordered lead
        article first, then by position within each article.
        """
        candidates: list[tuple[float, int, int]] = []  # (priority, article, sentence)
        article_sentences: list[list[str]] = []
        for article_order, article in enumerate(articles):
            paragraphs = article_paragraphs(article.text)
            sentences = [s for paragraph in paragraphs for s in paragraph]
            article_sentences.append(sentences)
            wanted = summary_length(len(sentences), self._count)
            preferred = self._preference(paragraphs, sentences, article.title, wanted)
            weight = _LEAD_ARTICLE_WEIGHT if article_order == 0 else _OTHER_ARTICLE_WEIGHT
            candidates.extend(
                (weight / (rank + 1), article_order, index) for rank, index in enumerate(preferred)
            )
        total = sum(len(s) for s in article_sentences)
        wanted_total = summary_length(total, self._count) if len(articles) == 1 else self._count
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        chosen: list[tuple[int, int]] = []
        chosen_stems: list[frozenset[str]] = []
        for _, article_order, index in candidates:
            if len(chosen) == wanted_total:
                break
            stems = self._ranker.stems(article_sentences[article_order][index])
            if any(_overlap(stems, other) > _STORY_REDUNDANCY for other in chosen_stems):
                continue
            chosen.append((article_order, index))
            chosen_stems.append(stems)
        chosen.sort()
        return tuple(
            StorySentence(
                article_id=articles[a].article_id,
                text=article_sentences[a][i],
                index=i,
            )
            for a, i in chosen
        )

    def _choose(
        self, paragraphs: list[list[str]], sentences: list[str], title: str, wanted: int
    ) -> list[int]:
        """Indices of the summary sentences, in article order."""
        if wanted == 0:
            return []
        if self._algorithm == "lead":
            return list(range(wanted))
        if self._algorithm == "news":
            ranked = self._ranker.rank(sentences, title, _paragraph_starts(paragraphs))
            return self._ranker.select(ranked, wanted)
        return sorted(self._run_sumy(paragraphs, title, wanted))

    def _preference(
        self, paragraphs: list[list[str]], sentences: list[str], title: str, wanted: int
    ) -> list[int]:
        """Summary-worthy sentence indices, best first."""
        if wanted == 0:
            return []
        if self._algorithm == "news":
            ranked = self._ranker.rank(sentences, title, _paragraph_starts(paragraphs))
            chosen = set(self._ranker.select(ranked, wanted))
            rest = sorted(
                (i for i in range(len(sentences)) if i not in chosen),
                key=lambda i: (-ranked.scores[i], i),
            )
            best_first = sorted(chosen, key=lambda i: (-ranked.scores[i], i))
            return [*best_first, *rest][: max(wanted, self._count)]
        return self._choose(paragraphs, sentences, title, wanted)

    def _run_sumy(self, paragraphs: list[list[str]], title: str, wanted: int) -> list[int]:
        sentence_objects: list[Sentence] = []
        dom_paragraphs = []
        for number, paragraph in enumerate(paragraphs):
            objects = [Sentence(s, self._tokenizer) for s in paragraph]
            sentence_objects.extend(objects)
            headings = (
                [Sentence(title, self._tokenizer, is_heading=True)] if title and number == 0 else []
            )
            dom_paragraphs.append(Paragraph([*headings, *objects]))
        document = ObjectDocumentModel(dom_paragraphs)
        position = {id(obj): index for index, obj in enumerate(sentence_objects)}
        picked = self._sumy(document, wanted)
        return [position[id(obj)] for obj in picked]


class ResidentSummarizer:
    """Summarisers by configuration, for a parser worker to keep between calls
    (:class:`bot.pipeline.isolation.ParserPool` makes one per worker)."""

    def __init__(self) -> None:
        self._summarizers: dict[tuple[int, str, str], Summarizer] = {}

    def __call__(self, config: tuple[int, str, str], method: str, *args: Any) -> Any:
        """``Summarizer(*config).<method>(*args)``; ``method`` is ``summarize`` or
        ``summarize_story``."""
        if method not in ("summarize", "summarize_story"):
            raise ValueError(f"unknown method {method!r}")
        summarizer = self._summarizers.get(config)
        if summarizer is None:
            summarizer = self._summarizers.setdefault(config, Summarizer(*config))
        return getattr(summarizer, method)(*args)


def _paragraph_starts(paragraphs: list[list[str]]) -> frozenset[int]:
    starts, offset = [], 0
    for paragraph in paragraphs:
        starts.append(offset)
        offset += len(paragraph)
    return frozenset(starts)


def _overlap(first: frozenset[str], second: frozenset[str]) -> float:
    """Share of the smaller set's stems found in the other set."""
    if not first or not second:
        return 1.0 if first == second else 0.0
    return len(first & second) / min(len(first), len(second))
