"""Percolation: find the subscriptions an article matches without testing every one.

Each distinct query is indexed under a set of *anchor* keys (stems, or the ``host:``/``name:``
keys of :class:`~bot.pipeline.query.DocumentTerms`) chosen so that every article the query
matches contains at least one of them:

- a word anchors on its stem; a phrase on the stem of its rarest word (every word of a phrase
  must be present); ``source:X`` on ``host:X`` and ``name:<first word of X>``;
- ``AND`` anchors on the anchors of one child that has any (the cheapest by estimated
  frequency), since a match satisfies every child;
- ``OR`` anchors on the union of its children's anchors, since a match satisfies some child;
- ``NOT`` contributes none, so an ``AND`` ignores it and an ``OR`` with a purely negative side
  has no anchors.

By induction over the query, a matching article always contains an anchor of the query, so
collecting the queries indexed under the article's keys yields a superset of the matches (no
false negatives); verifying each candidate with the full matcher removes the false positives,
so :meth:`SubscriptionIndex.match` is exact. A query without anchors would break this, but
:func:`~bot.pipeline.query.parse_query` rejects exactly those queries (only ``NOT`` terms, or
an ``OR`` side that is only ``NOT`` terms), and :meth:`SubscriptionIndex.add` refuses them too.

Queries whose anchors alone decide the match (one word, one-word ``source:``, an ``OR`` of
those) are stored as *sure* and never verified. Identical queries share one entry, so a
thousand subscriptions to ``ukraine`` cost one lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.errors import QueryError
from bot.pipeline.query import (
    And,
    DocumentTerms,
    Node,
    Not,
    Or,
    Phrase,
    Predicate,
    Query,
    QueryMatcher,
    Source,
    Term,
    host_key,
    name_key,
)

__all__ = ["MatchStats", "SubscriptionIndex", "estimated_frequency"]


def estimated_frequency(key: str) -> float:
    """A rough share of articles containing ``key`` when no real statistics are at hand.

    Longer words are rarer (Zipf's law of abbreviation); a source key is taken as 2 %.
    """
    if key.startswith(("host:", "name:")):
        return 0.02
    return 0.5 / (len(key) ** 2)


@dataclass(frozen=True, slots=True)
class MatchStats:
    """How much work :meth:`SubscriptionIndex.match` did for one article."""

    sure: int
    """Distinct queries matched by an anchor alone."""
    verified: int
    """Distinct candidate queries checked with the full matcher."""
    matched_queries: int
    matched_subscriptions: int


@dataclass(slots=True)
class _Entry:
    """One distinct query and the subscriptions that hold it."""

    query: Query
    anchors: frozenset[str]
    predicate: Predicate | None
    """None for a sure query (its anchors decide)."""
    subscriptions: set[int]


class SubscriptionIndex:
    """Percolator: index subscriptions by their terms so matching an article does not scan
    every subscription (see the module docstring for why it is exact)."""

    __slots__ = (
        "_entries",
        "_frequency",
        "_matcher",
        "_maybe",
        "_next_entry",
        "_query_ids",
        "_subscriptions",
        "_sure",
    )

    def __init__(
        self,
        matcher: QueryMatcher,
        *,
        term_frequency: Callable[[str], float] = estimated_frequency,
    ) -> None:
        """``term_frequency`` estimates the share of articles holding a stem or source key;
        ``AND`` anchors on its rarest child. Real document frequencies make fewer candidates;
        any function keeps matching exact."""
        self._matcher = matcher
        self._frequency = term_frequency
        self._subscriptions: dict[int, int] = {}
        """subscription id -> entry id"""
        self._query_ids: dict[Query, int] = {}
        self._entries: dict[int, _Entry] = {}
        self._sure: dict[str, set[int]] = {}
        """anchor key -> ids of sure entries"""
        self._maybe: dict[str, set[int]] = {}
        """anchor key -> ids of entries to verify"""
        self._next_entry = 0

    def __len__(self) -> int:
        return len(self._subscriptions)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._subscriptions

    def add(self, subscription_id: int, query: Query) -> None:
        """Index ``query`` for ``subscription_id`` (replacing its previous query)."""
        if subscription_id in self._subscriptions:
            self.remove(subscription_id)
        entry_id = self._query_ids.get(query)
        if entry_id is None:
            entry_id = self._new_entry(query)
        self._entries[entry_id].subscriptions.add(subscription_id)
        self._subscriptions[subscription_id] = entry_id

    def remove(self, subscription_id: int) -> None:
        """Forget ``subscription_id``; unknown ids are ignored."""
        entry_id = self._subscriptions.pop(subscription_id, None)
        if entry_id is None:
            return
        entry = self._entries[entry_id]
        entry.subscriptions.discard(subscription_id)
        if entry.subscriptions:
            return
        del self._entries[entry_id]
        del self._query_ids[entry.query]
        postings = self._sure if entry.predicate is None else self._maybe
        for key in entry.anchors:
            ids = postings[key]
            ids.discard(entry_id)
            if not ids:
                del postings[key]

    def match(self, doc_terms: DocumentTerms) -> set[int]:
        """The ids of the subscriptions whose query matches the article."""
        return self._match(doc_terms)[0]

    def match_stats(self, doc_terms: DocumentTerms) -> MatchStats:
        """What :meth:`match` does for this article, counted (for benchmarks and tuning)."""
        subscriptions, sure, verified, matched = self._match(doc_terms)
        return MatchStats(sure, verified, matched, len(subscriptions))

    def _match(self, doc_terms: DocumentTerms) -> tuple[set[int], int, int, int]:
        sure_postings, maybe_postings = self._sure, self._maybe
        sure: set[int] = set()
        candidates: set[int] = set()
        for keys in (doc_terms.stems, doc_terms.source_keys):
            for key in keys:
                ids = sure_postings.get(key)
                if ids:
                    sure |= ids
                ids = maybe_postings.get(key)
                if ids:
                    candidates |= ids
        entries = self._entries
        matched = list(sure)
        for entry_id in candidates:
            predicate = entries[entry_id].predicate
            if predicate is not None and predicate(doc_terms):
                matched.append(entry_id)
        subscriptions: set[int] = set()
        for entry_id in matched:
            subscriptions |= entries[entry_id].subscriptions
        return subscriptions, len(sure), len(candidates), len(matched)

    def _new_entry(self, query: Query) -> int:
        anchored = self._anchors(query.root)
        if anchored is None:
            raise QueryError(
                "this query can match an article without any of its words; "
                "it needs a word to look for outside NOT"
            )
        anchors, _cost = anchored
        sure = self._is_sure(query.root)
        entry_id = self._next_entry
        self._next_entry += 1
        predicate = None if sure else self._matcher.compile(query)
        self._entries[entry_id] = _Entry(query, anchors, predicate, set())
        self._query_ids[query] = entry_id
        postings = self._sure if sure else self._maybe
        for key in anchors:
            postings.setdefault(key, set()).add(entry_id)
        return entry_id

    def _anchors(self, node: Node) -> tuple[frozenset[str], float] | None:
        """Keys at least one of which every matching article holds, and their estimated cost;
        None when a match need not hold any key."""
        matcher = self._matcher
        if isinstance(node, Term):
            stem = matcher.stem(node.word)
            return frozenset({stem}), self._frequency(stem)
        if isinstance(node, Phrase):
            rarest = min((matcher.stem(word) for word in node.words), key=self._frequency)
            return frozenset({rarest}), self._frequency(rarest)
        if isinstance(node, Source):
            keys = {host_key(node.value), name_key(matcher.source_words(node.value)[0])}
            return frozenset(keys), sum(self._frequency(key) for key in keys)
        if isinstance(node, Not):
            return None
        children = [self._anchors(child) for child in node.children]
        if isinstance(node, And):
            usable = [child for child in children if child is not None]
            return min(usable, key=lambda anchored: anchored[1]) if usable else None
        if any(child is None for child in children):
            return None
        keys = frozenset().union(*(child[0] for child in children if child is not None))
        return keys, sum(child[1] for child in children if child is not None)

    def _is_sure(self, node: Node) -> bool:
        """True when holding any anchor key is the same as matching."""
        if isinstance(node, Term):
            return True
        if isinstance(node, Source):
            return len(self._matcher.source_words(node.value)) == 1
        if isinstance(node, Or):
            return all(self._is_sure(child) for child in node.children)
        return False
