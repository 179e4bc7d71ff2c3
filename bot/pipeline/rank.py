"""The "news" sentence ranker: sumy signals plus news cues, a small linear scorer, and
redundancy-aware selection.

Per sentence it computes position, LexRank centrality (sumy's power method over an
idf-weighted cosine graph of sumy-stemmed content words), similarity to the document
centroid and to the lead sentence, headline overlap, length, quote/number/name cues and
whether the sentence opens with a dangling pronoun or a fragment. A logistic scorer (weights
in ``sentence_scorer.json``, trained by ``bench/train_sentence_scorer.py``) turns the
features into one score; selection takes the best sentences, skips near-duplicates
(trigram blocking and cosine) and avoids opening the summary with a dangling sentence.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sumy.summarizers.lex_rank import LexRankSummarizer

from bot.pipeline.tokenize import split_words

__all__ = [
    "FEATURES",
    "NewsRanker",
    "RankedArticle",
    "SentenceScorer",
    "is_dangling",
    "load_default_scorer",
]

FEATURES: tuple[str, ...] = (
    "inv_position",
    "is_first",
    "is_second",
    "is_third",
    "position_capped",
    "relative_position",
    "first_in_paragraph",
    "lexrank",
    "centroid_similarity",
    "lead_similarity",
    "title_recall",
    "title_precision",
    "has_title",
    "log_length",
    "short",
    "long",
    "starts_with_quote",
    "quote_share",
    "says",
    "has_number",
    "name_share",
    "dangling",
    "fragment",
    "question",
    "log_sentence_count",
    "term_weight",
)
"""Feature names, in the column order of :meth:`NewsRanker.features`."""

_DANGLING_WORDS = frozenset(
    [
        "he",
        "she",
        "it",
        "they",
        "this",
        "these",
        "those",
        "that",
        "his",
        "her",
        "its",
        "their",
        "him",
        "them",
        "we",
        "us",
        "our",
        "i",
        "but",
        "and",
        "also",
        "however",
        "meanwhile",
        "still",
        "yet",
        "then",
        "so",
        "or",
        "nor",
        "because",
        "although",
        "though",
        "there",
        "here",
        "such",
        "both",
        "another",
        "other",
        "others",
        "which",
        "who",
        "whose",
    ]
)
_QUOTES = "\"“”‘’'«»"
_OPENING_QUOTES = "\"“‘'«"
_SAYS = re.compile(r"\b(?:said|says|told|according to|added|stated)\b", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]")
_DIGIT = re.compile(r"\d")
_LEXRANK_THRESHOLD = 0.1
_LEXRANK_EPSILON = 0.1
_REDUNDANT_COSINE = 0.6


def is_dangling(sentence: str) -> bool:
    """True when ``sentence`` cannot open a summary: it starts with a pronoun or connective
    that points back ("He said...", "But..."), or it is a fragment (starts in lower case or
    with a closing quote or punctuation, or leaves a quotation unbalanced).
    """
    return _starts_with_pointer(sentence) or _is_fragment(sentence)


def _starts_with_pointer(sentence: str) -> bool:
    words = split_words(sentence[:40])
    return bool(words) and words[0].lower() in _DANGLING_WORDS and words[0] != "I"


def _is_fragment(sentence: str) -> bool:
    text = sentence.strip()
    if not text:
        return True
    head = text[0]
    if head.islower() or (not head.isalnum() and head not in _OPENING_QUOTES and head not in "(["):
        return True
    straight = text.count('"')
    return straight % 2 == 1 or text.count("“") != text.count("”")


@dataclass(frozen=True, slots=True)
class SentenceScorer:
    """A logistic model over standardised :data:`FEATURES`."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    bias: float

    @classmethod
    def from_dict(cls, data: dict) -> SentenceScorer:
        """Build from the JSON layout written by ``bench/train_sentence_scorer.py``."""
        names = tuple(data["features"])
        if names != FEATURES:
            raise ValueError(f"scorer features {names} do not match {FEATURES}")
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            means=tuple(float(m) for m in data["means"]),
            scales=tuple(float(s) for s in data["scales"]),
            bias=float(data["bias"]),
        )

    def to_dict(self) -> dict:
        """The JSON layout :meth:`from_dict` reads."""
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "means": list(self.means),
            "scales": list(self.scales),
            "bias": self.bias,
        }

    def score(self, features: np.ndarray) -> np.ndarray:
        """Log-odds that each row's sentence belongs in the summary."""
        standardised = (features - np.asarray(self.means)) / np.asarray(self.scales)
        return standardised @ np.asarray(self.weights) + self.bias


def load_default_scorer() -> SentenceScorer:
    """The scorer shipped as ``bot/pipeline/sentence_scorer.json``."""
    text = resources.files("bot.pipeline").joinpath("sentence_scorer.json").read_text("utf-8")
    return SentenceScorer.from_dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class RankedArticle:
    """One article's sentences with their scores and content-word stems."""

    sentences: tuple[str, ...]
    scores: tuple[float, ...]
    stems: tuple[frozenset[str], ...]
    vectors: np.ndarray
    """Row-normalised tf-idf vectors, one row per sentence."""


class NewsRanker:
    """Scores and selects sentences of one news article."""

    __slots__ = ("_scorer", "_stem", "_stem_cache", "_stop_words")

    def __init__(
        self,
        stem: Callable[[str], str],
        stop_words: frozenset[str],
        scorer: SentenceScorer,
    ) -> None:
        self._stem = stem
        self._stop_words = stop_words
        self._scorer = scorer
        self._stem_cache: dict[str, str] = {}

    def _content_stems(self, text: str) -> list[str]:
        cache = self._stem_cache
        stems = []
        for word in split_words(text):
            lowered = word.lower()
            if lowered in self._stop_words or not any(c.isalpha() for c in lowered):
                continue
            stem = cache.get(lowered)
            if stem is None:
                stem = self._stem(lowered)
                if len(cache) < 200_000:
                    cache[lowered] = stem
            stems.append(stem)
        return stems

    def stems(self, text: str) -> frozenset[str]:
        """The stemmed content words (stop words and numbers dropped) of ``text``."""
        return frozenset(self._content_stems(text))

    def features(
        self,
        sentences: Sequence[str],
        title: str = "",
        paragraph_starts: frozenset[int] = frozenset({0}),
    ) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
        """Feature matrix (rows: sentences, columns: :data:`FEATURES`), each sentence's
        content stems, and the row-normalised tf-idf matrix.
        """
        count = len(sentences)
        stems = [self._content_stems(sentence) for sentence in sentences]
        vocabulary: dict[str, int] = {}
        for sentence_stems in stems:
            for stem in sentence_stems:
                vocabulary.setdefault(stem, len(vocabulary))
        tf = np.zeros((count, max(1, len(vocabulary))))
        for row, sentence_stems in enumerate(stems):
            for stem in sentence_stems:
                tf[row, vocabulary[stem]] += 1.0
        document_frequency = (tf > 0).sum(axis=0)
        idf = np.log((count + 1.0) / (document_frequency + 0.5))
        tfidf = tf * idf
        norms = np.linalg.norm(tfidf, axis=1, keepdims=True)
        vectors = np.divide(tfidf, norms, out=np.zeros_like(tfidf), where=norms > 0)
        similarity = vectors @ vectors.T

        lexrank = _lexrank(similarity)
        centroid = tfidf.sum(axis=0)
        centroid_norm = np.linalg.norm(centroid)
        centroid_similarity = (
            vectors @ (centroid / centroid_norm) if centroid_norm > 0 else np.zeros(count)
        )
        term_weight = tf.sum(axis=0)
        doc_weight = np.array(
            [
                float(np.mean([term_weight[vocabulary[s]] for s in st])) if st else 0.0
                for st in stems
            ]
        )
        doc_weight = doc_weight / doc_weight.max() if doc_weight.max() > 0 else doc_weight

        title_stems = set(self._content_stems(title)) if title else set()
        columns = np.zeros((count, len(FEATURES)))
        log_count = math.log1p(count)
        for row, sentence in enumerate(sentences):
            words = split_words(sentence)
            length = len(words)
            sentence_stems = set(stems[row])
            shared = len(title_stems & sentence_stems)
            quoted = sum(len(m) for m in _QUOTED.findall(sentence))
            names = sum(1 for word in words[1:] if word[:1].isupper())
            columns[row] = (
                1.0 / (row + 1),
                row == 0,
                row == 1,
                row == 2,
                min(row, 30) / 30.0,
                row / max(1, count - 1),
                row in paragraph_starts,
                lexrank[row],
                centroid_similarity[row],
                similarity[row, 0] if row else 1.0,
                shared / len(title_stems) if title_stems else 0.0,
                shared / len(sentence_stems) if title_stems and sentence_stems else 0.0,
                bool(title_stems),
                math.log1p(length),
                length < 8,
                length > 40,
                sentence.lstrip()[:1] in _OPENING_QUOTES,
                quoted / max(1, len(sentence)),
                bool(_SAYS.search(sentence)),
                bool(_DIGIT.search(sentence)),
                names / max(1, length - 1),
                _starts_with_pointer(sentence),
                _is_fragment(sentence),
                sentence.rstrip(_QUOTES + " ").endswith("?"),
                log_count,
                doc_weight[row],
            )
        return columns, stems, vectors

    def rank(
        self,
        sentences: Sequence[str],
        title: str = "",
        paragraph_starts: frozenset[int] = frozenset({0}),
    ) -> RankedArticle:
        """Score every sentence of one article."""
        if not sentences:
            return RankedArticle((), (), (), np.zeros((0, 1)))
        columns, stems, vectors = self.features(sentences, title, paragraph_starts)
        scores = self._scorer.score(columns)
        return RankedArticle(
            sentences=tuple(sentences),
            scores=tuple(float(s) for s in scores),
            stems=tuple(frozenset(s) for s in stems),
            vectors=vectors,
        )

    @staticmethod
    def select(ranked: RankedArticle, count: int) -> list[int]:
        """Indices of ``count`` high-scoring, mutually non-redundant sentences, in article
        order, not opening on a dangling sentence when a better choice exists.
        """
        total = len(ranked.sentences)
        if total == 0 or count <= 0:
            return []
        order = sorted(range(total), key=lambda i: (-ranked.scores[i], i))
        trigrams = [_trigrams(sentence) for sentence in ranked.sentences]
        chosen: list[int] = []
        for index in order:
            if len(chosen) == count:
                break
            if any(_redundant(ranked, trigrams, index, other) for other in chosen):
                continue
            chosen.append(index)
        for index in order:  # fill up if redundancy left too few
            if len(chosen) == count:
                break
            if index not in chosen:
                chosen.append(index)
        return _avoid_dangling_opening(ranked, sorted(chosen), order, trigrams)


def _lexrank(similarity: np.ndarray) -> np.ndarray:
    """LexRank centrality (thresholded graph, sumy's power method), scaled to max 1."""
    count = similarity.shape[0]
    if count == 1:
        return np.ones(1)
    adjacency = (similarity > _LEXRANK_THRESHOLD).astype(float)
    degrees = adjacency.sum(axis=1, keepdims=True)
    degrees[degrees == 0] = 1.0
    scores = LexRankSummarizer.power_method(adjacency / degrees, _LEXRANK_EPSILON)
    top = scores.max()
    return scores / top if top > 0 else scores


def _trigrams(sentence: str) -> frozenset[tuple[str, str, str]]:
    words = [w.lower() for w in split_words(sentence)]
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def _redundant(ranked: RankedArticle, trigrams: list[frozenset], first: int, second: int) -> bool:
    if trigrams[first] & trigrams[second]:
        return True
    return float(ranked.vectors[first] @ ranked.vectors[second]) > _REDUNDANT_COSINE


def _avoid_dangling_opening(
    ranked: RankedArticle, chosen: list[int], order: list[int], trigrams: list[frozenset]
) -> list[int]:
    """Swap a dangling opening sentence for the best clean one that fits, if any."""
    if not chosen or not is_dangling(ranked.sentences[chosen[0]]):
        return chosen
    rest = chosen[1:]
    for index in order:
        if index in chosen or is_dangling(ranked.sentences[index]):
            continue
        candidate = sorted([*rest, index])
        if is_dangling(ranked.sentences[candidate[0]]):
            continue
        if any(_redundant(ranked, trigrams, index, other) for other in rest):
            continue
        return candidate
    return chosen
