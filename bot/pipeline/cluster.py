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

Memory: a story is held compactly, about 3 KB while it is inside its base window and about 2.4 KB
after (``bench/cluster_memory.py``): each centroid is a tuple of terms (shared with the
vocabulary) and an array of 32-bit weights; the indexes hold small integer story handles, not
weights (a candidate's weight for a term is read from its centroid); a MinHash signature keeps 32
bits per permutation; past ``window`` a story drops its signatures, and a lone story keeps only
its ``lone_terms`` heaviest terms of each part. The default ``max_stories`` (20,000) holds the
stories at about 60 MB at worst; the vocabulary and IDF counts come on top of that.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from bisect import bisect_left
from collections import Counter
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

_Vector = dict[str, float]
_Key = TypeVar("_Key", str, int)


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

    Held compactly: the terms (interned strings, shared with the vocabulary) in a tuple, their
    weights as 32-bit floats in a parallel array.
    """

    __slots__ = ("norm", "terms", "weights")

    def __init__(self) -> None:
        self.terms: tuple[str, ...] = ()
        self.weights = array("f")
        self.norm = 1.0

    def cosine(self, unit: _Vector) -> float:
        get = unit.get
        return (
            sum(w * get(t, 0.0) for t, w in zip(self.terms, self.weights, strict=True)) / self.norm
        )

    def unit_weight(self, term: str) -> float:
        """The weight of ``term`` in the unit-length centroid (0 when not held)."""
        try:
            return self.weights[self.terms.index(term)] / self.norm
        except ValueError:
            return 0.0

    def as_dict(self) -> _Vector:
        return dict(zip(self.terms, self.weights, strict=True))

    def set(self, weights: _Vector) -> None:
        self.terms = tuple(weights)
        self.weights = array("f", weights.values())
        self.norm = math.sqrt(sum(w * w for w in self.weights)) or 1.0


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
class _Features:
    """What the clusterer keeps of a document while placing it."""

    names: _Vector
    topic: _Vector
    headline: _Vector
    """IDF weight of each headline term"""
    signature: bytes | None


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
        posted_terms: int = 16,
        query_terms: int = 24,
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
        self._doc_freq: Counter[str] = Counter()
        self._doc_count = 0
        self._capitalised: Counter[str] = Counter()
        """term -> documents in which it was capitalised inside a sentence"""
        self._lower_case: Counter[str] = Counter()
        """term -> documents in which it was written in lower case"""
        self._stories: dict[int, _Story] = {}
        """story handle -> story"""
        self._next_handle = 0
        self._story_of_doc: dict[str, str] = {}
        self._name_postings: dict[str, _Handles] = {}
        """name term -> handles of the stories with that term in their name centroid"""
        self._topic_postings: dict[str, _Handles] = {}
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
            story = self._duplicate_story(when, features.signature)
        if story is None:
            story = self._similar_story(when, features)
        if story is None:
            story = _Story(self._next_handle, doc.id, when)
            self._next_handle += 1
            self._stories[story.handle] = story
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
            self._doc_freq = _halved(self._doc_freq)
            self._capitalised = _halved(self._capitalised)
            self._lower_case = _halved(self._lower_case)

    def __len__(self) -> int:
        """The number of stories held."""
        return len(self._stories)

    # ------------------------------------------------------------------ features

    def _features(self, reading: ClusterReading) -> _Features:
        """Learn the document's terms and their case, then split its TF-IDF vector in two."""
        counts: dict[str, float] = dict(zip(reading.terms, reading.counts, strict=True))
        for term in reading.headline:
            counts[term] = counts.get(term, 0) + self._title_weight
        self._doc_count += 1
        self._doc_freq.update(counts.keys())
        self._capitalised.update(reading.capitalised)
        self._lower_case.update(reading.lower_case)
        idf_numerator = math.log(self._doc_count + 1) + 1.0
        doc_freq = self._doc_freq
        capitalised_in, lower_in = self._capitalised.get, self._lower_case.get
        log = math.log
        names: _Vector = {}
        topic: _Vector = {}
        for term, count in counts.items():
            if count <= 0:  # a headline term with title_weight 0
                continue
            weight = (1.0 + log(count)) * (idf_numerator - log(doc_freq[term] + 1))
            (names if capitalised_in(term, 0) > lower_in(term, 0) else topic)[term] = weight
        headline = {term: idf_numerator - log(doc_freq[term] + 1) for term in reading.headline}
        return _Features(_unit(names), _unit(topic), headline, reading.signature)

    def _band_keys(self, signature: bytes) -> tuple[int, ...]:
        """One LSH bucket key per band of ``rows`` hash values."""
        width = self._rows * 4
        return tuple(
            hash((band, signature[band * width : (band + 1) * width]))
            for band in range(self._bands)
        )

    # ------------------------------------------------------------------ matching

    def _duplicate_story(self, when: float, signature: bytes) -> _Story | None:
        """The active story holding the closest near-duplicate of the document, if any."""
        candidates: dict[int, None] = {}
        for key in self._band_keys(signature):
            bucket = self._buckets.get(key)
            if bucket is not None:
                candidates.update(dict.fromkeys(_members(bucket)))
        if not candidates:
            return None
        minima = np.frombuffer(signature, dtype=np.uint32)
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
        partial: dict[int, float] = {}
        self._accumulate(partial, features.names, self._name_postings, names=True)
        self._accumulate(partial, features.topic, self._topic_postings, names=False)
        ranked = heapq.nlargest(self._candidates, partial.items(), key=_weight)
        use_names = len(features.names) >= self._min_names
        # Joining needs a names or topic cosine of at least half the smaller bar (the harmonic
        # mean needs both near the threshold; the headline path needs the names floor): a story
        # whose partial dot products over the query terms sum to less is not scored exactly.
        floor = min(self._threshold, self._title_names_floor) / 2
        best: _Story | None = None
        best_margin = 0.0
        for handle, partial_score in ranked:
            if partial_score < floor:
                break
            story = self._stories[handle]
            gap = _gap(story, when)
            if gap > self._open_for(story):
                continue
            topic = story.topic.cosine(features.topic)
            names = story.names.cosine(features.names) if use_names and story.names.terms else None
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
        return best

    def _accumulate(
        self,
        partial: dict[int, float],
        unit: _Vector,
        postings: dict[str, _Handles],
        *,
        names: bool,
    ) -> None:
        """Add the dot products over the heaviest terms of ``unit`` to ``partial``."""
        stories = self._stories
        for term, weight in heapq.nlargest(self._query_terms, unit.items(), key=_weight):
            posting = postings.get(term)
            if posting is None:
                continue
            if isinstance(posting, int):
                posting = (posting,)
            elif len(posting) > self._max_postings:
                continue
            for handle in posting:
                story = stories[handle]
                centroid = story.names if names else story.topic
                partial[handle] = partial.get(handle, 0.0) + weight * centroid.unit_weight(term)

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
            self._remember_signature(story, features.signature)
        self._update(story.handle, story.names, features.names, self._name_postings)
        self._update(story.handle, story.topic, features.topic, self._topic_postings)

    def _remember_signature(self, story: _Story, signature: bytes) -> None:
        if story.signatures is None:
            story.signatures = []
        story.signatures.append(signature)
        for key in self._band_keys(signature):
            _index_add(self._buckets, key, story.handle)
        if len(story.signatures) > self._recent_signatures:
            dropped = story.signatures.pop(1)  # keep the first and the most recent
            kept = {key for member in story.signatures for key in self._band_keys(member)}
            self._unbucket(
                story.handle, tuple(k for k in self._band_keys(dropped) if k not in kept)
            )

    def _update(
        self, handle: int, centroid: _Centroid, unit: _Vector, postings: dict[str, _Handles]
    ) -> None:
        """Add ``unit`` to ``centroid``, cut it to its heaviest terms and post its new terms."""
        if not unit:
            return
        weights = centroid.as_dict()
        for term, weight in unit.items():
            weights[term] = weights.get(term, 0.0) + weight
        self._set(handle, centroid, weights, self._centroid_terms, postings)

    def _set(
        self,
        handle: int,
        centroid: _Centroid,
        weights: _Vector,
        terms: int,
        postings: dict[str, _Handles],
    ) -> None:
        """Hold the ``terms`` heaviest of ``weights`` in ``centroid``; post the heaviest."""
        was_posted = set(centroid.terms[: self._posted_terms])
        centroid.set(dict(heapq.nlargest(terms, weights.items(), key=_weight)))
        posted = set(centroid.terms[: self._posted_terms])
        for term in was_posted - posted:
            _index_remove(postings, term, handle)
        for term in posted - was_posted:
            _index_add(postings, term, handle)

    def _cut(self, story: _Story, terms: int) -> None:
        """Cut both centroids of ``story`` to their ``terms`` heaviest terms."""
        for centroid, postings in (
            (story.names, self._name_postings),
            (story.topic, self._topic_postings),
        ):
            if len(centroid.terms) > terms:
                self._set(story.handle, centroid, centroid.as_dict(), terms, postings)

    def _forget(self, story: _Story) -> None:
        del self._stories[story.handle]
        self._story_of_doc.pop(story.id, None)
        for doc_id in story.later_ids or ():
            self._story_of_doc.pop(doc_id, None)
        for term in story.names.terms[: self._posted_terms]:
            _index_remove(self._name_postings, term, story.handle)
        for term in story.topic.terms[: self._posted_terms]:
            _index_remove(self._topic_postings, term, story.handle)
        for signature in story.signatures or ():
            self._unbucket(story.handle, self._band_keys(signature))

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


def _coverage(headline: _Vector, story: _Story) -> float:
    """The share of the headline's IDF weight found among the story's centroid terms."""
    total = sum(headline.values())
    if not total:
        return 0.0
    names, topic = story.names.terms, story.topic.terms
    return sum(w for term, w in headline.items() if term in names or term in topic) / total


def _halved(counts: Counter[str]) -> Counter[str]:
    return Counter({term: n // 2 for term, n in counts.items() if n > 1})


def _unit(vector: _Vector) -> _Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {term: w / norm for term, w in vector.items()} if norm else {}


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


def _weight(item: tuple[str, float]) -> float:
    return item[1]


def _gap(story: _Story, when: float) -> float:
    """Seconds between ``when`` and the story's time span (0 inside it)."""
    if when > story.last:
        return when - story.last
    if when < story.first:
        return story.first - when
    return 0.0
