"""The "news" sentence ranker: sumy signals plus news cues, a small learned scorer, and
redundancy-aware selection.

Per sentence it computes position, LexRank centrality (sumy's power method over an
idf-weighted cosine graph of sumy-stemmed content words), similarity to the document
centroid and to the lead sentence, headline overlap, relative length, quote/number/name
cues, whether it opens with a dangling pronoun or is a fragment, and how many *salient*
words and word pairs it holds (two small logistic models predict, from frequency, first
position, spread and capitalisation, which words and bigrams of an article a reader's
summary will use). A tiny MLP ensemble (weights in ``sentence_scorer.json``, trained by
``bench/train_sentence_scorer.py``) turns the features into a score, to which a fixed
log-position prior is added so the lead stays strong. Selection takes the best sentences,
skips near-duplicates, and avoids opening the summary with a dangling sentence.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np
from sumy.summarizers.lex_rank import LexRankSummarizer

from bot.pipeline.tokenize import split_words

__all__ = [
    "BIGRAM_FEATURES",
    "FEATURES",
    "WORD_FEATURES",
    "LinearModel",
    "NewsRanker",
    "RankedArticle",
    "SentenceScorer",
    "is_dangling",
    "load_default_scorer",
]

WORD_FEATURES: tuple[str, ...] = (
    "log_tf",
    "inv_first",
    "first_sentence",
    "first_three",
    "sentence_share",
    "capitalised_share",
    "numeric",
    "log_length",
    "in_title",
)
"""Columns of the word-salience model (one row per distinct word of an article)."""

BIGRAM_FEATURES: tuple[str, ...] = (
    "log_tf",
    "inv_first",
    "first_sentence",
    "sentence_share",
    "stop_words",
    "capitalised",
    "numeric",
    "salience_max",
    "salience_min",
)
"""Columns of the bigram-salience model (one row per distinct word pair)."""

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
    "centroid_z",
    "lead_similarity",
    "length_z",
    "short",
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
    "salience_sum",
    "salience_mean",
    "salience_max",
    "salience_z",
    "bigram_sum",
    "bigram_mean",
    "title_recall",
    "title_precision",
)
"""Sentence feature names, in the column order of :meth:`NewsRanker.features`."""

_DANGLING_WORDS = frozenset(
    [
        *("he", "she", "it", "they", "this", "these", "those", "that", "his", "her", "its"),
        *("their", "him", "them", "we", "us", "our", "but", "and", "also", "however"),
        *("meanwhile", "still", "yet", "then", "so", "or", "nor", "because", "although"),
        *("though", "there", "here", "such", "both", "another", "other", "others", "which"),
        *("who", "whose"),
    ]
)
_QUOTES = "\"“”‘’'«»"
_OPENING_QUOTES = "\"“‘'«"
_SAYS = re.compile(r"\b(?:said|says|told|according to|added|stated)\b", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]")
_DIGIT = re.compile(r"\d")
_LEXRANK_THRESHOLD = 0.1
_LEXRANK_EPSILON = 0.1
_REDUNDANT_COSINE = 0.8
_REDUNDANT_TRIGRAMS = 0.5
_DANGLING_MARGIN = 1.0
"""How much score a clean opening sentence may cost, to replace a dangling one."""
_SHORT_WORDS = 8


def is_dangling(sentence: str) -> bool:
    """True when ``sentence`` cannot open a summary: it starts with a pronoun or connective
    that points back ("He said...", "But..."), or it is a fragment (starts in lower case or
    with a closing quote or punctuation, or leaves a quotation unbalanced).
    """
    return _starts_with_pointer(sentence) or _is_fragment(sentence)


def _starts_with_pointer(sentence: str) -> bool:
    if sentence.lstrip()[:1] in _OPENING_QUOTES:
        return False  # a quotation's "we" or "this" is the speaker's, not a back-reference
    words = split_words(sentence[:40])
    return bool(words) and words[0].lower() in _DANGLING_WORDS


def _is_fragment(sentence: str) -> bool:
    text = sentence.strip()
    if not text:
        return True
    head = text[0]
    if head.islower() or (not head.isalnum() and head not in _OPENING_QUOTES and head not in "(["):
        return True
    return text.count('"') % 2 == 1 or text.count("“") != text.count("”")


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


@dataclass(frozen=True, slots=True, eq=False)
class LinearModel:
    """A logistic model over standardised columns."""

    weights: np.ndarray
    means: np.ndarray
    scales: np.ndarray
    bias: float

    @classmethod
    def from_dict(cls, data: dict, names: tuple[str, ...]) -> LinearModel:
        """Read ``{"features", "weights", "means", "scales", "bias"}``."""
        if tuple(data["features"]) != names:
            raise ValueError(f"model features {data['features']} do not match {names}")
        return cls(
            np.asarray(data["weights"], dtype=float),
            np.asarray(data["means"], dtype=float),
            np.asarray(data["scales"], dtype=float),
            float(data["bias"]),
        )

    def to_dict(self, names: tuple[str, ...]) -> dict:
        """The layout :meth:`from_dict` reads."""
        return {
            "features": list(names),
            "weights": [round(float(w), 6) for w in self.weights],
            "means": [round(float(m), 6) for m in self.means],
            "scales": [round(float(s), 6) for s in self.scales],
            "bias": round(self.bias, 6),
        }

    def probabilities(self, columns: np.ndarray) -> np.ndarray:
        """P(label) for each row."""
        logits = ((columns - self.means) / self.scales) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True, slots=True, eq=False)
class SentenceScorer:
    """Word and bigram salience models plus the sentence MLP ensemble.

    ``members`` hold ``(W1, b1, w2, b2)`` of one-hidden-layer tanh networks over the
    standardised sentence features selected by ``learned``; ``linear`` adds hand-set
    weights on standardised features (the headline ones, which the CNN training data
    cannot teach); ``position_prior`` subtracts ``prior * log(1 + position)``.
    """

    word: LinearModel
    bigram: LinearModel
    means: np.ndarray
    scales: np.ndarray
    learned: np.ndarray
    members: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, float], ...]
    linear: np.ndarray
    position_prior: float

    @classmethod
    def from_dict(cls, data: dict) -> SentenceScorer:
        """Build from the JSON layout written by ``bench/train_sentence_scorer.py``."""
        sentence = data["sentence"]
        if tuple(sentence["features"]) != FEATURES:
            raise ValueError(f"scorer features {sentence['features']} do not match {FEATURES}")
        learned = np.array([FEATURES.index(name) for name in sentence["learned"]], dtype=int)
        linear = np.zeros(len(FEATURES))
        for name, weight in sentence["linear"].items():
            linear[FEATURES.index(name)] = float(weight)
        return cls(
            word=LinearModel.from_dict(data["word"], WORD_FEATURES),
            bigram=LinearModel.from_dict(data["bigram"], BIGRAM_FEATURES),
            means=np.asarray(sentence["means"], dtype=float),
            scales=np.asarray(sentence["scales"], dtype=float),
            learned=learned,
            members=tuple(
                (
                    np.asarray(m["W1"], dtype=float),
                    np.asarray(m["b1"], dtype=float),
                    np.asarray(m["w2"], dtype=float),
                    float(m["b2"]),
                )
                for m in sentence["members"]
            ),
            linear=linear,
            position_prior=float(sentence["position_prior"]),
        )

    def to_dict(self) -> dict:
        """The JSON layout :meth:`from_dict` reads."""

        def rounded(values: np.ndarray) -> list:
            return np.round(values, 5).tolist()

        return {
            "word": self.word.to_dict(WORD_FEATURES),
            "bigram": self.bigram.to_dict(BIGRAM_FEATURES),
            "sentence": {
                "features": list(FEATURES),
                "means": rounded(self.means),
                "scales": rounded(self.scales),
                "learned": [FEATURES[i] for i in self.learned],
                "members": [
                    {"W1": rounded(w1), "b1": rounded(b1), "w2": rounded(w2), "b2": round(b2, 5)}
                    for w1, b1, w2, b2 in self.members
                ],
                "linear": {FEATURES[i]: float(w) for i, w in enumerate(self.linear) if w != 0.0},
                "position_prior": self.position_prior,
            },
        }

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per row of sentence features (higher: more summary-worthy)."""
        standardised = (features - self.means) / self.scales
        inputs = standardised[:, self.learned]
        learned = np.zeros(len(features))
        for w1, b1, w2, b2 in self.members:
            learned += np.tanh(inputs @ w1 + b1) @ w2 + b2
        if self.members:
            learned /= len(self.members)
        prior = self.position_prior * np.log1p(np.arange(len(features)))
        return learned + standardised @ self.linear - prior


def load_default_scorer() -> SentenceScorer:
    """The scorer shipped as ``bot/pipeline/sentence_scorer.json``."""
    text = resources.files("bot.pipeline").joinpath("sentence_scorer.json").read_text("utf-8")
    return SentenceScorer.from_dict(json.loads(text))


@dataclass(frozen=True, slots=True, eq=False)
class RankedArticle:
    """One article's sentences with their scores."""

    sentences: tuple[str, ...]
    scores: tuple[float, ...]
    vectors: np.ndarray
    """Row-normalised tf-idf vectors, one row per sentence."""


class _Token(NamedTuple):
    key: str
    """Stem for content words, the lower-cased word for stop words."""
    stop: bool
    alphabetic: bool
    capitalised: bool
    """Capitalised and not the sentence's first word."""
    numeric: bool


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

    def tokens(self, text: str) -> list[_Token]:
        """The words of ``text`` as the ranker sees them."""
        cache = self._stem_cache
        tokens = []
        for position, word in enumerate(split_words(text)):
            lowered = word.lower()
            if lowered in self._stop_words:
                tokens.append(_Token(lowered, True, True, False, False))
                continue
            stem = cache.get(lowered)
            if stem is None:
                stem = self._stem(lowered)
                if len(cache) < 200_000:
                    cache[lowered] = stem
            tokens.append(
                _Token(
                    stem,
                    False,
                    not lowered.isdigit() and any(c.isalpha() for c in lowered),
                    position > 0 and word[0].isupper(),
                    any(c.isdigit() for c in lowered),
                )
            )
        return tokens

    def stems(self, text: str) -> frozenset[str]:
        """The stemmed content words (stop words and numbers dropped) of ``text``."""
        return frozenset(t.key for t in self.tokens(text) if not t.stop and t.alphabetic)

    def word_table(
        self, sentence_tokens: list[list[_Token]], title_keys: frozenset[str]
    ) -> tuple[list[str], np.ndarray]:
        """Distinct content words (numbers included) and their :data:`WORD_FEATURES`."""
        count = len(sentence_tokens)
        stats: dict[str, list] = {}  # key -> [tf, first sentence, sentences, capitalised]
        for index, tokens in enumerate(sentence_tokens):
            for token in tokens:
                if token.stop:
                    continue
                entry = stats.get(token.key)
                if entry is None:
                    entry = stats[token.key] = [0, index, set(), 0, token.numeric]
                entry[0] += 1
                entry[2].add(index)
                entry[3] += token.capitalised
        keys = list(stats)
        table = np.zeros((len(keys), len(WORD_FEATURES)))
        for row, key in enumerate(keys):
            tf, first, sentences, capitalised, numeric = stats[key]
            table[row] = (
                math.log1p(tf),
                1.0 / (1 + first),
                first == 0,
                first < 3,
                len(sentences) / count,
                capitalised / tf,
                numeric,
                math.log1p(len(key)),
                key in title_keys,
            )
        return keys, table

    def bigram_table(
        self, sentence_tokens: list[list[_Token]], salience: dict[str, float]
    ) -> tuple[list[tuple[str, str]], np.ndarray]:
        """Distinct adjacent word pairs and their :data:`BIGRAM_FEATURES`."""
        count = len(sentence_tokens)
        stats: dict[tuple[str, str], list] = {}
        for index, tokens in enumerate(sentence_tokens):
            for left, right in itertools.pairwise(tokens):
                pair = (left.key, right.key)
                entry = stats.get(pair)
                if entry is None:
                    stop_words = left.stop + right.stop
                    capitalised = left.capitalised or right.capitalised
                    numeric = left.numeric or right.numeric
                    entry = stats[pair] = [0, index, set(), stop_words, capitalised, numeric]
                entry[0] += 1
                entry[2].add(index)
        keys = list(stats)
        table = np.zeros((len(keys), len(BIGRAM_FEATURES)))
        for row, pair in enumerate(keys):
            tf, first, sentences, stop_words, capitalised, numeric = stats[pair]
            parts = [salience[k] for k in pair if k in salience]
            table[row] = (
                math.log1p(tf),
                1.0 / (1 + first),
                first == 0,
                len(sentences) / count,
                stop_words,
                capitalised,
                numeric,
                max(parts, default=0.0),
                min(parts, default=0.0),
            )
        return keys, table

    def features(
        self,
        sentences: Sequence[str],
        title: str = "",
        paragraph_starts: frozenset[int] = frozenset({0}),
    ) -> tuple[np.ndarray, np.ndarray, list[list[_Token]]]:
        """Feature matrix (rows: sentences, columns: :data:`FEATURES`), the row-normalised
        tf-idf matrix, and each sentence's tokens.
        """
        count = len(sentences)
        sentence_tokens = [self.tokens(sentence) for sentence in sentences]
        content = [
            [t.key for t in tokens if not t.stop and t.alphabetic] for tokens in sentence_tokens
        ]
        vocabulary: dict[str, int] = {}
        for keys in content:
            for key in keys:
                vocabulary.setdefault(key, len(vocabulary))
        tf = np.zeros((count, max(1, len(vocabulary))))
        for row, keys in enumerate(content):
            for key in keys:
                tf[row, vocabulary[key]] += 1.0
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
        term_totals = tf.sum(axis=0)
        term_weight = np.array(
            [
                float(np.mean([term_totals[vocabulary[k]] for k in keys])) if keys else 0.0
                for keys in content
            ]
        )
        if term_weight.max() > 0:
            term_weight = term_weight / term_weight.max()

        title_keys = (
            frozenset(t.key for t in self.tokens(title) if not t.stop) if title else frozenset()
        )
        word_keys, word_table = self.word_table(sentence_tokens, title_keys)
        salience = (
            dict(zip(word_keys, self._scorer.word.probabilities(word_table).tolist(), strict=True))
            if word_keys
            else {}
        )
        pair_keys, pair_table = self.bigram_table(sentence_tokens, salience)
        pair_salience = (
            dict(
                zip(pair_keys, self._scorer.bigram.probabilities(pair_table).tolist(), strict=True)
            )
            if pair_keys
            else {}
        )

        lengths = np.array([len(tokens) for tokens in sentence_tokens], dtype=float)
        salience_sums = np.zeros(count)
        columns = np.zeros((count, len(FEATURES)))
        log_count = math.log1p(count)
        title_content = {k for k in title_keys if any(c.isalpha() for c in k)}
        for row, sentence in enumerate(sentences):
            tokens = sentence_tokens[row]
            length = len(tokens)
            distinct = {t.key for t in tokens if not t.stop}
            word_scores = [salience[k] for k in distinct]
            salience_sum = float(sum(word_scores))
            salience_sums[row] = salience_sum
            pairs = {(a.key, b.key) for a, b in itertools.pairwise(tokens)}
            pair_sum = float(sum(pair_salience[p] for p in pairs))
            sentence_content = set(content[row])
            shared = len(title_content & sentence_content)
            quoted = sum(len(m) for m in _QUOTED.findall(sentence))
            names = sum(t.capitalised for t in tokens)
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
                0.0,  # centroid_z, below
                similarity[row, 0] if row else 1.0,
                0.0,  # length_z, below
                length < _SHORT_WORDS,
                sentence.lstrip()[:1] in _OPENING_QUOTES,
                quoted / max(1, len(sentence)),
                bool(_SAYS.search(sentence)),
                bool(_DIGIT.search(sentence)),
                names / max(1, length - 1),
                _starts_with_pointer(sentence),
                _is_fragment(sentence),
                sentence.rstrip(_QUOTES + " ").endswith("?"),
                log_count,
                term_weight[row],
                salience_sum,
                salience_sum / max(1, length),
                max(word_scores, default=0.0),
                0.0,  # salience_z, below
                pair_sum,
                pair_sum / max(1, length),
                shared / len(title_content) if title_content else 0.0,
                shared / len(sentence_content) if title_content and sentence_content else 0.0,
            )
        columns[:, FEATURES.index("centroid_z")] = _zscore(centroid_similarity)
        columns[:, FEATURES.index("length_z")] = _zscore(np.log1p(lengths))
        columns[:, FEATURES.index("salience_z")] = _zscore(salience_sums)
        return columns, vectors, sentence_tokens

    def rank(
        self,
        sentences: Sequence[str],
        title: str = "",
        paragraph_starts: frozenset[int] = frozenset({0}),
    ) -> RankedArticle:
        """Score every sentence of one article."""
        if not sentences:
            return RankedArticle((), (), np.zeros((0, 1)))
        columns, vectors, _ = self.features(sentences, title, paragraph_starts)
        scores = self._scorer.score(columns)
        return RankedArticle(tuple(sentences), tuple(float(s) for s in scores), vectors)

    @staticmethod
    def select(ranked: RankedArticle, count: int) -> list[int]:
        """Indices of ``count`` high-scoring, mutually non-redundant sentences, in article
        order, not opening on a dangling sentence when a clean one scores nearly as well.
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
            if not any(_redundant(ranked, trigrams, index, other) for other in chosen):
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
    """Near-duplicates: most trigrams shared, or a very high tf-idf cosine."""
    smaller = min(len(trigrams[first]), len(trigrams[second]))
    if smaller and len(trigrams[first] & trigrams[second]) / smaller > _REDUNDANT_TRIGRAMS:
        return True
    return float(ranked.vectors[first] @ ranked.vectors[second]) > _REDUNDANT_COSINE


def _avoid_dangling_opening(
    ranked: RankedArticle, chosen: list[int], order: list[int], trigrams: list[frozenset]
) -> list[int]:
    """Swap a dangling opening sentence for the best clean one within the margin."""
    if not chosen or not is_dangling(ranked.sentences[chosen[0]]):
        return chosen
    floor = ranked.scores[chosen[0]] - _DANGLING_MARGIN
    rest = chosen[1:]
    for index in order:
        if ranked.scores[index] < floor:
            break
        if index in chosen or is_dangling(ranked.sentences[index]):
            continue
        candidate = sorted([*rest, index])
        if is_dangling(ranked.sentences[candidate[0]]):
            continue
        if any(_redundant(ranked, trigrams, index, other) for other in rest):
            continue
        return candidate
    return chosen
