"""Streaming story clustering: articles about the same event, from any source, become one story.

Documents arrive in time order; each joins an open story or starts a new one, and nothing looks
ahead. Three signals decide:

* **Near-duplicates** (a wire story republished with a new headline or small edits): MinHash over
  the word 3-shingles of the lead (the first ``lead_chars`` characters), banded for LSH. A
  document whose estimated Jaccard similarity with a recent member of an active story reaches
  ``duplicate_jaccard`` joins that story outright.
* **Same event**: the title (counted ``title_weight`` times) and the lead become a TF-IDF vector,
  with IDF learned online from every document seen so far. The vector is split in two parts:
  *names* (people, places, organisations) and *topic* (all other words). A word is a name when,
  over the documents seen so far, it was more often capitalised inside a sentence than written in
  lower case; a headline written In Title Case, or a heading line repeated in the text, gives no
  evidence. An event is who and where as much as what, so the score against a story is the
  harmonic mean of the two cosines with the story's name and topic centroids, which is high only
  when both are: two quakes told with the same wire template, or two elections on the same
  Sunday, share the topic but not the names; two stories from one city share the names but not
  the topic. A document with fewer than ``min_names`` names (a short item, a page of clutter) is
  judged on the topic cosine alone.
* **Headline coverage**: the share of the headline's IDF weight whose terms are among the
  story's centroid terms. It catches the article whose body is page clutter or another angle but
  whose headline says what the story is about ("Equifax hack attack"). It counts only when the
  document has ``min_names`` names and they agree with the story's (a names cosine of at least
  ``title_names_floor``), so "Magnitude 5.9 earthquake strikes central Japan" does not join a
  Chilean quake.

The text is not run through :mod:`bot.pipeline.clean` first: the datelines it strips ("PARIS —")
are the where of a story, and on the dev set cleaning cost about 0.01 F1.

A story is joined when the score, or the headline coverage, clears its bar (``threshold`` and
``title_threshold``), both raised by ``gap_penalty`` for every doubling of the time since the
story's last article, counted in windows: the older the story, the stronger the evidence needed.
Of the stories that clear their bar, the one with the widest margin wins.

Time: a story stays open while it keeps receiving articles, its window measured from its *last*
article: ``lone_window`` for a story of one article, ``max_window`` for a developing story that
has drawn two or more. Past ``window`` only the gap penalty stands between a document and an old
story, so how long after its last article a story can still be joined grows with how strongly
the document matches it: a follow-up a week or two after a lone report joins it when it names
the same people and tells of the same thing, but not when it shares only a place or a topic.
``prune`` forgets closed stories and, beyond ``max_stories``, the least recently joined, so memory
stays bounded whatever the stream rate.

Candidates come from inverted indexes over the ``posted_terms`` heaviest terms of each story's
centroids and from the LSH buckets; no call scans all stories.

Cost: terms are small integer ids (one dictionary lookup per term of a document); the document
counts, capitalised and lower-case counts are arrays over those ids, so a document's TF-IDF
weights are a few array operations. The query is laid out densely over the ids (a scratch
vector, zeroed again after each document), so a centroid's cosine with it is one gather and one
dot product, and the candidates found through the postings are scored together against a table
of every story's posted terms and unit weights (rows by story handle, handles reused).

Memory: a story is held compactly, about 3 KB while it is inside its base window and about 2.5 KB
after (``bench/cluster_memory.py``): each centroid is an array of 32-bit term ids and one of
32-bit weights; the indexes hold small integer story handles, and the posted-terms table a row
of ``posted_terms`` ids and weights per handle; a MinHash signature keeps 32 bits per
permutation; past ``window`` a story drops its signatures, and a lone story keeps only its
``lone_terms`` heaviest terms of each part. The default ``max_stories`` (20,000) holds the
stories at about 60 MB at worst; the vocabulary and IDF counts come on top of that (ids of terms
no longer counted nor held are reused when the counts are halved).
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from zlib import crc32

import numpy as np

from bot.core.models import ClusterReading

__all__ = ["ClusterDocument", "DocumentReader", "StoryClusterer"]

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:['’][^\W_]+)*")
_MID_SENTENCE_CAPITAL = re.compile(
    r"(?=[A-ZÀ-ÖØ-Þ])(?:(?<=[^\W_]\s)|(?<=[^\W_],\s))([^\W_]+(?:['’][^\W_]+)*)"
)
"""A capitalised word right after a word (and maybe a comma): not at the start of a sentence.
(The capital is looked for first: a lookbehind tried at every position costs twice as much.)"""
_MIN_SHINGLE_WORDS = 8
_MAX_HEADING_CHARS = 150
_SENTENCE_ENDS = (".", "!", "?", '"', "”", "’", "'", ":")
_MAX_REMEMBERED_WORDS = 100_000
_SEED = 20180101

_STOPWORD_TEXT = """
    a about above after again against all also although am among an and another any are around
    as at back be became because been before being below between both but by can cannot could
    did do does doing done down during each either else even ever every few for from further
    get gets got had has have having he her here hers herself him himself his how however i if
    in into is it its itself just last least less like made make many may me might more most
    much must my myself near need never new next no nor not now of off often on once one only
    or other others our ours ourselves out over own per put rather said same say says see seen
    she should since so some still such take than that the their theirs them themselves then
    there these they this those though three through thus to too two under until up upon us
    very via was we week well were what when where whether which while who whom whose why will
    with within without would year yet you your yours yourself yourselves
    i'm i've i'd i'll
    according added adding told tell tells reported reports report reporting news photo photos
    image images video videos getty read continue story advertisement click share updated
    update mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday today
    yesterday tomorrow time times day days people first including early late later
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_Key = TypeVar("_Key", str, int)
_NO_IDS = np.zeros(0, np.int32)
_NO_WEIGHTS = np.zeros(0, np.float32)


@dataclass(frozen=True, slots=True)
class ClusterDocument:
    """One article as the clusterer sees it."""

    id: str
    title: str
    text: str
    published: datetime
    """Timezone-aware publication time."""
    source: str
    """Where it came from, e.g. the host name."""


class _Centroid:
    """The sum of the members' unit vectors of one part, cut to its heaviest terms.

    Held compactly: the term ids (32-bit) heaviest first, their weights as 32-bit floats.
    """

    __slots__ = ("ids", "norm", "weights")

    def __init__(self) -> None:
        self.ids = _NO_IDS
        self.weights = _NO_WEIGHTS
        self.norm = 1.0

    def set(self, ids: np.ndarray, weights: np.ndarray) -> None:
        self.ids = ids.astype(np.int32)
        self.weights = weights.astype(np.float32)
        self.norm = math.sqrt(float(np.dot(self.weights, self.weights))) or 1.0


class _PostedTerms:
    """The posted (indexed) terms of one part of every story held, as rows by story handle:
    term ids and unit weights, zero-padded, so that a query is scored against many candidate
    stories at once."""

    __slots__ = ("ids", "weights")

    def __init__(self, width: int) -> None:
        self.ids = np.zeros((64, width), np.int32)
        self.weights = np.zeros((64, width), np.float64)

    def set(self, handle: int, centroid: _Centroid) -> None:
        if handle >= len(self.ids):
            rows = max(2 * len(self.ids), handle + 1)
            for name in ("ids", "weights"):
                old = getattr(self, name)
                new = np.zeros((rows, old.shape[1]), old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)
        width = min(self.ids.shape[1], len(centroid.ids))
        self.ids[handle, :width] = centroid.ids[:width]
        self.ids[handle, width:] = 0
        self.weights[handle, :width] = centroid.weights[:width] / centroid.norm
        self.weights[handle, width:] = 0.0

    def clear(self, handle: int) -> None:
        if handle < len(self.ids):
            self.ids[handle] = 0
            self.weights[handle] = 0.0

    def dots(self, query: np.ndarray, handles: np.ndarray) -> np.ndarray:
        """Dot product of ``query`` (dense over term ids) with each story's posted terms."""
        return np.einsum("ij,ij->i", query[self.ids[handles]], self.weights[handles])


class _Vocabulary:
    """Term ids, and per id the documents counted so far: all, capitalised inside a sentence,
    written in lower case. Ids of terms no longer counted nor held are reused."""

    __slots__ = ("_free", "capitalised", "doc_freq", "ids", "lower_case")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.doc_freq = np.zeros(1024, np.int64)
        self.capitalised = np.zeros(1024, np.int64)
        self.lower_case = np.zeros(1024, np.int64)
        self._free: list[int] = []

    def __len__(self) -> int:
        return len(self.doc_freq)

    def of(self, terms: Sequence[str]) -> np.ndarray:
        """The ids of ``terms`` (new terms get one), in order."""
        ids = self.ids
        found = [ids.get(term, -1) for term in terms]
        if -1 in found:
            for at, term in enumerate(terms):
                if found[at] < 0:
                    known = ids.get(term)
                    found[at] = self._new(term) if known is None else known
        return np.array(found, dtype=np.intp)

    def _new(self, term: str) -> int:
        if self._free:
            term_id = self._free.pop()
        else:
            term_id = len(self.ids)
            if term_id >= len(self.doc_freq):
                grown = 2 * len(self.doc_freq)
                for name in ("doc_freq", "capitalised", "lower_case"):
                    old = getattr(self, name)
                    new = np.zeros(grown, old.dtype)
                    new[: len(old)] = old
                    setattr(self, name, new)
        self.ids[term] = term_id
        return term_id

    def halve(self, held: set[int]) -> None:
        """Halve every count; forget the terms left with none that no story holds."""
        for counts in (self.doc_freq, self.capitalised, self.lower_case):
            counts //= 2
        unused = (self.doc_freq == 0) & (self.capitalised == 0) & (self.lower_case == 0)
        for term, term_id in list(self.ids.items()):
            if unused[term_id] and term_id not in held:
                del self.ids[term]
                self._free.append(term_id)


class _Story:
    """A story still held: time span, size, centroids and recent near-duplicate signatures."""

    __slots__ = (
        "first",
        "handle",
        "id",
        "last",
        "later_ids",
        "names",
        "signatures",
        "size",
        "topic",
    )

    def __init__(self, handle: int, story_id: str, when: float) -> None:
        self.handle = handle
        """Small integer key of the story in the indexes"""
        self.id = story_id
        self.first = self.last = when
        self.size = 0
        self.later_ids: list[str] | None = None
        """ids of the members after the first (whose id is the story's)"""
        self.names = _Centroid()
        self.topic = _Centroid()
        self.signatures: list[bytes] | None = None


_Handles = int | array
"""One story handle, or a sorted array of them (type code ``q``)."""


class DocumentReader:
    """Reads a document's title and lead as the clusterer needs them: a :class:`ClusterReading`.

    Pure: the reading depends only on the document and the settings, never on the documents
    read before, so a parser worker can read ahead and the clusterer take the result. The only
    state is a bounded memo of the words seen (their term, hash and case). The MinHash
    permutations come from a fixed seed, so every process computes the same signatures.
    """

    __slots__ = ("_hash_a", "_hash_b", "_lead_chars", "_permutations", "_words")

    def __init__(self, *, lead_chars: int = 2000, num_permutations: int = 32) -> None:
        if lead_chars <= 0 or num_permutations <= 0:
            raise ValueError("lead_chars and num_permutations must be positive")
        self._lead_chars = lead_chars
        self._permutations = num_permutations
        rng = np.random.default_rng(_SEED)
        full = np.iinfo(np.uint64).max
        self._hash_a = rng.integers(0, full, size=num_permutations, dtype=np.uint64) | np.uint64(1)
        self._hash_b = rng.integers(0, full, size=num_permutations, dtype=np.uint64)
        self._words: dict[str, tuple[str | None, int, bool]] = {}
        """word as written -> (its term, or None for a stopword; crc32 of the lower-cased word;
        whether it is written in lower case)"""

    def fits(self, reading: ClusterReading) -> bool:
        """True when ``reading`` was made with this reader's settings."""
        return reading.lead_chars == self._lead_chars and reading.permutations == self._permutations

    def read(self, title: str, text: str) -> ClusterReading:
        """The terms, case evidence and near-duplicate signature of one document."""
        if len(self._words) > _MAX_REMEMBERED_WORDS:
            self._words.clear()
        lead = _without_repeated_headline(text[: self._lead_chars], title)
        memo = self._words
        word_of = self._word
        words = _WORD.findall(lead)
        counts: dict[str, int] = {}
        lower_case: set[str] = set()
        for word, times in Counter(words).items():  # each distinct word once
            term, _, lower = memo.get(word) or word_of(word)
            if term:
                counts[term] = counts.get(term, 0) + times
                if lower:
                    lower_case.add(term)
        title_words = _WORD.findall(title)
        headline = tuple(
            term for term in ((memo.get(w) or word_of(w))[0] for w in title_words) if term
        )
        lines = lead.split("\n")
        kept = [line for line in lines if not _is_heading(line)]
        if len(kept) < len(lines):
            lead = "\n".join(kept)
        capitalised = _MID_SENTENCE_CAPITAL.findall(lead)
        if not _is_title_case(title_words):
            capitalised += _MID_SENTENCE_CAPITAL.findall(title)
        return ClusterReading(
            terms=tuple(counts),
            counts=tuple(counts.values()),
            lower_case=frozenset(lower_case),
            headline=headline,
            capitalised=frozenset(
                term for term in ((memo.get(w) or word_of(w))[0] for w in capitalised) if term
            ),
            signature=self._signature([memo[word][1] for word in words]),
            lead_chars=self._lead_chars,
            permutations=self._permutations,
        )

    def _word(self, word: str) -> tuple[str | None, int, bool]:
        """The term (None for a stopword), hash and lower-case flag of ``word``, memoised."""
        known = self._words.get(word)
        if known is None:
            lower = word.lower()
            known = self._words[word] = (_normalise(word), crc32(lower.encode()), word == lower)
        return known

    def _signature(self, word_hashes: list[int]) -> bytes | None:
        """MinHash signature of the word 3-shingles; None for fewer than 8 words.

        The low 32 bits of each minimum are kept (as bytes): two different minima agree there
        once in 2**32, so the estimated Jaccard similarity is unchanged and the signature half as
        large.

        Each permutation is ``a * x + b`` modulo 2**64 with odd ``a``, a bijection on 64 bits.
        """
        if len(word_hashes) < _MIN_SHINGLE_WORDS:
            return None
        hashed = np.array(word_hashes, dtype=np.uint64)
        shingles = (hashed[:-2] << np.uint64(42)) ^ (hashed[1:-1] << np.uint64(21)) ^ hashed[2:]
        minima = (np.outer(shingles, self._hash_a) + self._hash_b).min(axis=0)
        return minima.astype(np.uint32).tobytes()


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a document's unit TF-IDF vector: term ids and weights, in reading order."""

    ids: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class _Features:
    """What the clusterer keeps of a document while placing it."""

    names: _Part
    topic: _Part
    headline: _Part
    """The IDF weight of each distinct headline term"""
    signature: bytes | None
    band_keys: tuple[int, ...]


class StoryClusterer:
    """Streaming clusterer: documents arrive in time order; each joins an open story or starts one.

    Keep one instance per process and feed it from one thread (it is not thread-safe). Call
    :meth:`prune` now and then (say every few hundred documents) to bound memory.
    """

    def __init__(
        self,
        *,
        window: timedelta = timedelta(days=3),
        lone_window: timedelta = timedelta(days=14),
        max_window: timedelta = timedelta(days=365),
        threshold: float = 0.16,
        gap_penalty: float = 0.02,
        title_threshold: float = 0.55,
        title_names_floor: float = 0.2,
        min_names: int = 3,
        duplicate_jaccard: float = 0.5,
        title_weight: float = 2.0,
        lead_chars: int = 2000,
        num_permutations: int = 32,
        bands: int = 8,
        centroid_terms: int = 48,
        lone_terms: int = 32,
        posted_terms: int = 12,
        query_terms: int = 16,
        max_postings: int = 1000,
        candidates: int = 8,
        recent_signatures: int = 8,
        max_stories: int = 20_000,
        idf_horizon: int = 200_000,
    ) -> None:
        """Configure the clusterer; see the module docstring for what each knob does.

        ``query_terms``, ``max_postings`` and ``candidates`` bound the work per document: the
        heaviest query terms are looked up, posting lists longer than ``max_postings`` are
        skipped (very common words), and only the best ``candidates`` stories are scored exactly.
        ``centroid_terms`` bounds each part of a story's centroid (``lone_terms`` once a lone
        story is past ``window``); only its ``posted_terms`` heaviest terms are indexed (both at
        most ``centroid_terms``).
        """
        if window <= timedelta(0) or not window <= lone_window <= max_window:
            raise ValueError("need 0 < window <= lone_window <= max_window")
        if min(centroid_terms, lone_terms, posted_terms) <= 0:
            raise ValueError("centroid_terms, lone_terms and posted_terms must be positive")
        if num_permutations <= 0 or bands <= 0 or num_permutations % bands:
            raise ValueError("num_permutations must be a positive multiple of bands")
        self._window = window.total_seconds()
        self._lone_window = lone_window.total_seconds()
        self._max_window = max_window.total_seconds()
        self._threshold = threshold
        self._gap_penalty = gap_penalty
        self._title_threshold = title_threshold
        self._title_names_floor = title_names_floor
        self._min_names = min_names
        self._duplicate_jaccard = duplicate_jaccard
        self._title_weight = title_weight
        self._lead_chars = lead_chars
        self._bands = bands
        self._rows = num_permutations // bands
        self._centroid_terms = centroid_terms
        self._lone_terms = min(lone_terms, centroid_terms)
        self._posted_terms = min(posted_terms, centroid_terms)
        self._query_terms = query_terms
        self._max_postings = max_postings
        self._candidates = candidates
        self._recent_signatures = recent_signatures
        self._max_stories = max_stories
        self._idf_horizon = idf_horizon
        self._reader = DocumentReader(lead_chars=lead_chars, num_permutations=num_permutations)
        self._vocabulary = _Vocabulary()
        self._doc_count = 0
        self._query = (np.zeros(1024), np.zeros(1024))
        """Dense scratch vectors (names, topic) over term ids, zero between two documents"""
        self._stories: dict[int, _Story] = {}
        """story handle -> story"""
        self._free_handles: list[int] = []
        self._posted = (_PostedTerms(self._posted_terms), _PostedTerms(self._posted_terms))
        """(names, topic): each story's posted terms and their unit weights, by handle"""
        self._story_of_doc: dict[str, str] = {}
        self._name_postings: dict[int, _Handles] = {}
        """name term id -> handles of the stories with that term posted in their name centroid"""
        self._topic_postings: dict[int, _Handles] = {}
        self._buckets: dict[int, _Handles] = {}
        """LSH band key -> handles of the active stories with a recent member in that bucket"""

    # ------------------------------------------------------------------ public interface

    def add(self, doc: ClusterDocument, reading: ClusterReading | None = None) -> str:
        """Place ``doc`` in a story; return the story id (the id of the story's first document).

        ``reading`` is what a :class:`DocumentReader` made of ``doc``'s title and text, when it
        was read ahead (in a parser worker); without it, or when it was read with other
        settings, the clusterer reads the document itself. The story is the same either way.
        Adding a document id that is still held returns its story and changes nothing.
        """
        known = self._story_of_doc.get(doc.id)
        if known is not None:
            return known
        if doc.published.tzinfo is None:
            raise ValueError(f"document {doc.id!r} has a naive publication time")
        when = doc.published.timestamp()
        if reading is None or not self._reader.fits(reading):
            reading = self._reader.read(doc.title, doc.text)
        features = self._features(reading)
        story = None
        if features.signature is not None:
            story = self._duplicate_story(when, features)
        if story is None:
            story = self._similar_story(when, features)
        if story is None:
            handle = self._free_handles.pop() if self._free_handles else len(self._stories)
            story = _Story(handle, doc.id, when)
            self._stories[handle] = story
        self._join(story, doc.id, when, features)
        return story.id

    def story_of(self, doc_id: str) -> str | None:
        """The story id of a document still held; None if it was never added or was pruned."""
        return self._story_of_doc.get(doc_id)

    def prune(self, now: datetime) -> None:
        """Forget the stories that can no longer be joined at ``now``.

        Stories past their base window also drop their near-duplicate signatures, and a lone
        story keeps only its ``lone_terms`` heaviest terms of each part. If more than
        ``max_stories`` remain, the least recently joined go too (see :meth:`_keep_for`).
        Document frequencies are halved once ``idf_horizon`` documents have been counted, which
        bounds the vocabulary and weights the IDF towards recent news (so are the counts that
        tell names from other words).
        """
        moment = now.timestamp()
        for story in list(self._stories.values()):
            gap = moment - story.last
            if gap > self._open_for(story):
                self._forget(story)
            elif gap > self._window:
                if story.signatures:
                    for signature in story.signatures:
                        self._unbucket(story.handle, self._band_keys(signature))
                    story.signatures = None
                if story.size == 1:
                    self._cut(story, self._lone_terms)
        excess = len(self._stories) - self._max_stories
        if excess > 0:
            for story in heapq.nsmallest(excess, self._stories.values(), key=self._keep_for):
                self._forget(story)
        if self._doc_count > self._idf_horizon:
            self._doc_count //= 2
            held = {
                int(term_id)
                for story in self._stories.values()
                for centroid in (story.names, story.topic)
                for term_id in centroid.ids
            }
            self._vocabulary.halve(held)

    def __len__(self) -> int:
        """The number of stories held."""
        return len(self._stories)

    # ------------------------------------------------------------------ features

    def _features(self, reading: ClusterReading) -> _Features:
        """Learn the document's terms and their case, then split its TF-IDF vector in two."""
        counts: dict[str, float] = dict(zip(reading.terms, reading.counts, strict=True))
        for term in reading.headline:
            counts[term] = counts.get(term, 0) + self._title_weight
        vocabulary = self._vocabulary
        terms = list(counts)
        ids = vocabulary.of(terms)
        lower = reading.lower_case  # terms of the lead, so among ``terms``
        written_lower = np.fromiter([term in lower for term in terms], np.bool_, len(terms))
        self._doc_count += 1
        doc_freq = vocabulary.doc_freq
        doc_freq[ids] += 1  # each id once
        vocabulary.capitalised[vocabulary.of(list(reading.capitalised))] += 1
        vocabulary.lower_case[ids[written_lower]] += 1
        idf_numerator = math.log(self._doc_count + 1) + 1.0
        idf = idf_numerator - np.log(doc_freq[ids] + 1.0)
        tf = np.fromiter(counts.values(), np.float64, len(terms))
        weights = (1.0 + np.log(tf)) * idf if self._title_weight > 0 else _weights(tf, idf)
        is_name = vocabulary.capitalised[ids] > vocabulary.lower_case[ids]
        headline_ids = vocabulary.of(list(dict.fromkeys(reading.headline)))
        signature = reading.signature
        return _Features(
            _unit(ids[is_name], weights[is_name]),
            _unit(ids[~is_name], weights[~is_name]),
            _Part(headline_ids, idf_numerator - np.log(doc_freq[headline_ids] + 1.0)),
            signature,
            self._band_keys(signature) if signature is not None else (),
        )

    def _band_keys(self, signature: bytes) -> tuple[int, ...]:
        """One LSH bucket key per band of ``rows`` hash values."""
        width = self._rows * 4
        return tuple(
            hash((band, signature[band * width : (band + 1) * width]))
            for band in range(self._bands)
        )

    # ------------------------------------------------------------------ matching

    def _duplicate_story(self, when: float, features: _Features) -> _Story | None:
        """The active story holding the closest near-duplicate of the document, if any."""
        candidates: dict[int, None] = {}
        for key in features.band_keys:
            bucket = self._buckets.get(key)
            if bucket is not None:
                candidates.update(dict.fromkeys(_members(bucket)))
        if not candidates:
            return None
        assert features.signature is not None
        minima = np.frombuffer(features.signature, dtype=np.uint32)
        best: _Story | None = None
        best_jaccard = self._duplicate_jaccard
        for handle in candidates:
            story = self._stories[handle]
            if _gap(story, when) > self._window or not story.signatures:
                continue
            for member in story.signatures:
                agreeing = np.count_nonzero(np.frombuffer(member, dtype=np.uint32) == minima)
                if agreeing / minima.size >= best_jaccard:
                    best, best_jaccard = story, agreeing / minima.size
        return best

    def _similar_story(self, when: float, features: _Features) -> _Story | None:
        """The open story whose evidence clears its time-adjusted bar by the widest margin."""
        names_query, topic_query = self._dense_query()
        partial: dict[int, float] = {}
        names_posted, topic_posted = self._posted
        self._accumulate(partial, features.names, names_query, self._name_postings, names_posted)
        self._accumulate(partial, features.topic, topic_query, self._topic_postings, topic_posted)
        ranked = heapq.nlargest(self._candidates, partial.items(), key=_weight)
        use_names = len(features.names) >= self._min_names
        # Joining needs a names or topic cosine of at least half the smaller bar (the harmonic
        # mean needs both near the threshold; the headline path needs the names floor): a story
        # whose partial dot products over the query terms sum to less is not scored exactly.
        floor = min(self._threshold, self._title_names_floor) / 2
        best: _Story | None = None
        best_margin = 0.0
        names_query[features.names.ids] = features.names.weights
        topic_query[features.topic.ids] = features.topic.weights
        for handle, partial_score in ranked:
            if partial_score < floor:
                break
            story = self._stories[handle]
            gap = _gap(story, when)
            if gap > self._open_for(story):
                continue
            topic = _cosine(story.topic, topic_query)
            names = None
            if use_names and len(story.names.ids):
                names = _cosine(story.names, names_query)
            if names is None:
                score = topic
            else:
                score = 2 * names * topic / (names + topic) if names + topic > 0 else 0.0
            margin = score - self._threshold
            if names is not None and names >= self._title_names_floor:
                coverage = _coverage(features.headline, story)
                margin = max(margin, coverage - self._title_threshold)
            margin -= self._gap_penalty * math.log2(1.0 + gap / self._window)
            if margin >= 0 and (best is None or margin > best_margin):
                best, best_margin = story, margin
        names_query[features.names.ids] = 0.0
        topic_query[features.topic.ids] = 0.0
        return best

    def _dense_query(self) -> tuple[np.ndarray, np.ndarray]:
        """The scratch vectors, as long as the vocabulary's id range (zero everywhere)."""
        size = len(self._vocabulary)
        if len(self._query[0]) < size:
            self._query = (np.zeros(size), np.zeros(size))
        return self._query

    def _accumulate(
        self,
        partial: dict[int, float],
        unit: _Part,
        query: np.ndarray,
        postings: dict[int, _Handles],
        posted: _PostedTerms,
    ) -> None:
        """Add the dot products over the heaviest terms of ``unit`` to ``partial``: each
        candidate story's posted terms against the query terms whose postings were read."""
        heaviest = np.argsort(-unit.weights, kind="stable")[: self._query_terms].tolist()
        read: list[int] = []
        """positions in ``unit`` of the query terms whose postings were read"""
        candidates: dict[int, None] = {}
        for at, term_id in zip(heaviest, unit.ids[heaviest].tolist(), strict=True):
            held = postings.get(term_id)
            if held is None:
                continue
            if isinstance(held, int):
                candidates[held] = None
            elif len(held) <= self._max_postings:
                candidates.update(dict.fromkeys(held))
            else:
                continue
            read.append(at)
        if not candidates:
            return
        read_ids = unit.ids[read]
        query[read_ids] = unit.weights[read]
        handles = list(candidates)
        dots = posted.dots(query, np.array(handles, dtype=np.intp))
        query[read_ids] = 0.0
        get = partial.get
        for handle, dot in zip(handles, dots.tolist(), strict=True):
            partial[handle] = get(handle, 0.0) + dot

    def _open_for(self, story: _Story) -> float:
        """Seconds after its last article during which ``story`` can still be joined."""
        return self._lone_window if story.size < 2 else self._max_window

    def _keep_for(self, story: _Story) -> float:
        """Eviction order under ``max_stories``: the lowest goes first.

        The least recently joined story goes first, a developing story counting one ``window``
        younger than it is. (Evicting those closest to *closing* would drop every lone story,
        even an hour-old one, before a developing story silent for months: on the crowded dev
        set capped at 20 stories that cost 0.13 pairwise F1.)
        """
        return story.last + (self._window if story.size > 1 else 0.0)

    # ------------------------------------------------------------------ bookkeeping

    def _join(self, story: _Story, doc_id: str, when: float, features: _Features) -> None:
        story.first = min(story.first, when)
        story.last = max(story.last, when)
        story.size += 1
        if doc_id != story.id:
            if story.later_ids is None:
                story.later_ids = []
            story.later_ids.append(doc_id)
        self._story_of_doc[doc_id] = story.id
        if features.signature is not None:
            self._remember_signature(story, features.signature, features.band_keys)
        names_posted, topic_posted = self._posted
        self._update(story.handle, story.names, features.names, names_posted, self._name_postings)
        self._update(story.handle, story.topic, features.topic, topic_posted, self._topic_postings)

    def _remember_signature(
        self, story: _Story, signature: bytes, band_keys: tuple[int, ...]
    ) -> None:
        if story.signatures is None:
            story.signatures = []
        story.signatures.append(signature)
        for key in band_keys:
            _index_add(self._buckets, key, story.handle)
        if len(story.signatures) > self._recent_signatures:
            dropped = story.signatures.pop(1)  # keep the first and the most recent
            kept = {key for member in story.signatures for key in self._band_keys(member)}
            self._unbucket(
                story.handle, tuple(k for k in self._band_keys(dropped) if k not in kept)
            )

    def _update(
        self,
        handle: int,
        centroid: _Centroid,
        unit: _Part,
        posted: _PostedTerms,
        postings: dict[int, _Handles],
    ) -> None:
        """Add ``unit`` to ``centroid``, cut it to its heaviest terms and post its new terms."""
        if not len(unit):
            return
        if not len(centroid.ids):
            whole = unit.ids, unit.weights
            self._set(handle, centroid, *whole, self._centroid_terms, posted, postings)
            return
        # the held terms first, then the new ones in reading order (ties keep that order)
        held = centroid.ids.astype(np.intp)
        scratch = self._dense_query()[0]  # zero between two documents
        scratch[unit.ids] = unit.weights
        weights = centroid.weights.astype(np.float64) + scratch[held]
        scratch[unit.ids] = 0.0
        scratch[held] = 1.0
        new = scratch[unit.ids] == 0.0
        scratch[held] = 0.0
        self._set(
            handle,
            centroid,
            np.concatenate((held, unit.ids[new])),
            np.concatenate((weights, unit.weights[new])),
            self._centroid_terms,
            posted,
            postings,
        )

    def _set(
        self,
        handle: int,
        centroid: _Centroid,
        ids: np.ndarray,
        weights: np.ndarray,
        terms: int,
        posted_terms: _PostedTerms,
        postings: dict[int, _Handles],
    ) -> None:
        """Hold the ``terms`` heaviest of ``weights`` in ``centroid``; post the heaviest."""
        was_posted = set(centroid.ids[: self._posted_terms].tolist())
        heaviest = np.argsort(-weights, kind="stable")[:terms]
        centroid.set(ids[heaviest], weights[heaviest])
        posted_terms.set(handle, centroid)
        posted = set(centroid.ids[: self._posted_terms].tolist())
        for term_id in was_posted - posted:
            _index_remove(postings, term_id, handle)
        for term_id in posted - was_posted:
            _index_add(postings, term_id, handle)

    def _cut(self, story: _Story, terms: int) -> None:
        """Cut both centroids of ``story`` to their ``terms`` heaviest terms."""
        names_posted, topic_posted = self._posted
        for centroid, posted, postings in (
            (story.names, names_posted, self._name_postings),
            (story.topic, topic_posted, self._topic_postings),
        ):
            if len(centroid.ids) > terms:
                held = centroid.ids, centroid.weights
                self._set(story.handle, centroid, *held, terms, posted, postings)

    def _forget(self, story: _Story) -> None:
        del self._stories[story.handle]
        self._story_of_doc.pop(story.id, None)
        for doc_id in story.later_ids or ():
            self._story_of_doc.pop(doc_id, None)
        for term_id in story.names.ids[: self._posted_terms].tolist():
            _index_remove(self._name_postings, term_id, story.handle)
        for term_id in story.topic.ids[: self._posted_terms].tolist():
            _index_remove(self._topic_postings, term_id, story.handle)
        for signature in story.signatures or ():
            self._unbucket(story.handle, self._band_keys(signature))
        for posted in self._posted:
            posted.clear(story.handle)
        self._free_handles.append(story.handle)

    def _unbucket(self, handle: int, band_keys: tuple[int, ...]) -> None:
        for key in band_keys:
            _index_remove(self._buckets, key, handle)


def _normalise(word: str) -> str | None:
    """Lower-case, drop possessives and plural endings; None for stopwords and single letters."""
    term = word.lower().replace("’", "'")
    if term.endswith("'s"):
        term = term[:-2]
    if len(term) < 2 or term in _STOPWORDS:
        return None
    if len(term) > 4 and term.endswith("ies"):
        return term[:-3] + "y"
    if len(term) > 4 and term.endswith(("ches", "shes", "sses", "xes")):
        return term[:-2]
    if len(term) > 3 and term.endswith("s") and not term.endswith(("ss", "us", "is")):
        return term[:-1]
    return term


def _is_title_case(words: list[str]) -> bool:
    """True for a headline In Which Most Words Are Capitalised (so capitals say nothing)."""
    longer = [word for word in words if len(word) > 3 and word[0].isalpha()]
    return sum(word[0].isupper() for word in longer) * 2 > len(longer)


def _is_heading(line: str) -> bool:
    """True for a short line In Title Case (a headline or crosshead repeated in the text)."""
    line = line.rstrip()
    return (
        0 < len(line) < _MAX_HEADING_CHARS
        and not line.endswith(_SENTENCE_ENDS)
        and _is_title_case(_WORD.findall(line))
    )


def _without_repeated_headline(lead: str, title: str) -> str:
    """``lead`` without its first line when that line only repeats the headline."""
    first, newline, rest = lead.partition("\n")
    if newline and first.strip().casefold() == title.strip().casefold():
        return rest
    return lead


def _coverage(headline: _Part, story: _Story) -> float:
    """The share of the headline's IDF weight found among the story's centroid terms."""
    total = float(headline.weights.sum())
    if not total:
        return 0.0
    held = np.concatenate((story.names.ids, story.topic.ids))
    covered = (headline.ids[:, np.newaxis] == held).any(axis=1)
    return float(headline.weights[covered].sum()) / total


def _weights(tf: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """TF-IDF weights; zero for a term counted zero times (a headline term with title_weight
    0), which then drops out of the unit vector."""
    kept = tf > 0
    return np.where(kept, 1.0 + np.log(np.where(kept, tf, 1.0)), 0.0) * idf


def _cosine(centroid: _Centroid, query: np.ndarray) -> float:
    """Cosine of ``centroid`` with the unit vector ``query`` (dense over term ids)."""
    return float(np.dot(query[centroid.ids], centroid.weights)) / centroid.norm


def _unit(ids: np.ndarray, weights: np.ndarray) -> _Part:
    if not weights.all():  # terms weighted zero are left out
        ids, weights = ids[weights > 0], weights[weights > 0]
    norm = math.sqrt(float(np.dot(weights, weights)))
    return _Part(ids, weights / norm) if norm else _Part(ids[:0], weights[:0])


def _members(handles: _Handles) -> tuple[int, ...] | array:
    return (handles,) if isinstance(handles, int) else handles


def _index_add(index: dict[_Key, _Handles], key: _Key, handle: int) -> None:
    """Add ``handle`` under ``key``: a lone handle is held as is, more as a sorted array."""
    held = index.get(key)
    if held is None:
        index[key] = handle
    elif isinstance(held, int):
        if held != handle:
            index[key] = array("q", (held, handle) if held < handle else (handle, held))
    else:
        at = bisect_left(held, handle)
        if at == len(held) or held[at] != handle:
            held.insert(at, handle)


def _index_remove(index: dict[_Key, _Handles], key: _Key, handle: int) -> None:
    held = index.get(key)
    if held is None:
        return
    if isinstance(held, int):
        if held == handle:
            del index[key]
        return
    at = bisect_left(held, handle)
    if at < len(held) and held[at] == handle:
        del held[at]
        if len(held) == 1:
            index[key] = held[0]


def _weight(item: tuple[int, float]) -> float:
    return item[1]


def _gap(story: _Story, when: float) -> float:
    """Seconds between ``when`` and the story's time span (0 inside it)."""
    if when > story.last:
        return when - story.last
    if when < story.first:
        return story.first - when
    return 0.0
