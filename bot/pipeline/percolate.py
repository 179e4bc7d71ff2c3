"""Percolation: find the subscriptions an article matches without testing every one.

Every query has *anchor groups*: sets of keys (stems, or the ``host:``/``name:`` keys of
:class:`~bot.pipeline.query.DocumentTerms`) such that every article the query matches holds
at least one key of *each* group:

- a word has one group, its stem; a phrase one group per word (all its words are present);
  ``source:X`` one group, ``{host:X, name:<first word of X>}``;
- ``AND`` has the groups of all its children, since a match satisfies every child;
- ``OR`` has one group, the union of one group of each child, since a match satisfies some
  child, which hits all of that child's groups;
- ``NOT`` has none, so an ``OR`` with a purely negative side has none either.

By induction over the query these hold for every match. A query is indexed under its cheapest
group (by estimated key frequency), or, when it has two or more groups, under *pairs* of keys
from its two cheapest groups; an article collects the queries indexed under its keys (for
pairs: under two of its keys). Every matching query is collected (no false negatives), and
each collected query is verified with the full matcher unless holding the keys alone decides
it (a word, a one-word ``source:``, an ``OR`` of those, or an ``AND`` of exactly two of
those), so :meth:`SubscriptionIndex.match` is exact. A query with no groups would break this,
but :func:`~bot.pipeline.query.parse_query` rejects exactly those (only ``NOT`` terms, or an
``OR`` side that is only ``NOT`` terms), and :meth:`SubscriptionIndex.add` refuses them too.

Identical queries share one entry, so a thousand subscriptions to ``ukraine`` cost one lookup.
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

_Postings = dict[str, set[int]]
_PairPostings = dict[str, dict[str, set[int]]]


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
    """Subscriptions matched by their index keys alone (no verification needed)."""
    verified: int
    """Distinct candidate queries checked with the full matcher."""
    verified_matches: int
    """Of those, how many matched."""
    matched_subscriptions: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where one distinct query sits in the index: a sure query files its subscription ids
    (no verification, no expansion), any other query files its entry id."""

    first: frozenset[str]
    second: frozenset[str] | None
    """None: indexed under single keys of ``first``; else under pairs (first x second)."""
    sure: bool


class SubscriptionIndex:
    """Percolator: index subscriptions by their terms so matching an article does not scan
    every subscription (see the module docstring for why it is exact)."""

    __slots__ = (
        "_frequency",
        "_matcher",
        "_maybe",
        "_maybe_pairs",
        "_next_entry",
        "_plans",
        "_predicates",
        "_queries",
        "_query_entries",
        "_subscription_entries",
        "_subscriptions",
        "_sure",
        "_sure_pairs",
    )

    def __init__(
        self,
        matcher: QueryMatcher,
        *,
        term_frequency: Callable[[str], float] = estimated_frequency,
    ) -> None:
        """``term_frequency`` estimates the share of articles holding a stem or source key;
        queries are indexed under their rarest keys. Real document frequencies give fewer
        candidates; any function keeps matching exact."""
        self._matcher = matcher
        self._frequency = term_frequency
        self._subscription_entries: dict[int, int] = {}
        self._query_entries: dict[Query, int] = {}
        self._queries: dict[int, Query] = {}
        self._subscriptions: dict[int, set[int]] = {}
        self._plans: dict[int, _Plan] = {}
        self._predicates: dict[int, Predicate] = {}
        self._sure: _Postings = {}
        self._maybe: _Postings = {}
        self._sure_pairs: _PairPostings = {}
        self._maybe_pairs: _PairPostings = {}
        self._next_entry = 0

    def __len__(self) -> int:
        return len(self._subscription_entries)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._subscription_entries

    def add(self, subscription_id: int, query: Query) -> None:
        """Index ``query`` for ``subscription_id`` (replacing its previous query)."""
        if subscription_id in self._subscription_entries:
            self.remove(subscription_id)
        entry = self._query_entries.get(query)
        if entry is None:
            entry = self._new_entry(query)
        self._subscriptions[entry].add(subscription_id)
        self._subscription_entries[subscription_id] = entry
        plan = self._plans[entry]
        if plan.sure:
            self._post(plan, subscription_id)

    def remove(self, subscription_id: int) -> None:
        """Forget ``subscription_id``; unknown ids are ignored."""
        entry = self._subscription_entries.pop(subscription_id, None)
        if entry is None:
            return
        plan = self._plans[entry]
        if plan.sure:
            self._unpost(plan, subscription_id)
        subscriptions = self._subscriptions[entry]
        subscriptions.discard(subscription_id)
        if subscriptions:
            return
        del self._subscriptions[entry]
        del self._query_entries[self._queries.pop(entry)]
        del self._plans[entry]
        if not plan.sure:
            del self._predicates[entry]
            self._unpost(plan, entry)

    def match(self, doc_terms: DocumentTerms) -> set[int]:
        """The ids of the subscriptions whose query matches the article."""
        return self._match(doc_terms)[0]

    def match_stats(self, doc_terms: DocumentTerms) -> MatchStats:
        """What :meth:`match` does for this article, counted (for benchmarks and tuning)."""
        subscriptions, sure, verified, verified_matches = self._match(doc_terms)
        return MatchStats(sure, verified, verified_matches, len(subscriptions))

    def _match(self, doc_terms: DocumentTerms) -> tuple[set[int], int, int, int]:
        sure_postings, maybe_postings = self._sure, self._maybe
        sure_pairs, maybe_pairs = self._sure_pairs, self._maybe_pairs
        keys = set(doc_terms.keys)
        """An exact set: ``dict_keys & set`` scans the smaller side, ``& frozenset`` does not."""
        found: set[int] = set()
        candidates: set[int] = set()
        # Only the article's keys that index something are visited: each intersection runs
        # in C over the smaller side, and most of an article's hundreds of keys index nothing.
        for key in sure_postings.keys() & keys:
            found |= sure_postings[key]
        for key in maybe_postings.keys() & keys:
            candidates |= maybe_postings[key]
        for key in sure_pairs.keys() & keys:
            inner = sure_pairs[key]
            for second in inner.keys() & keys:
                found |= inner[second]
        for key in maybe_pairs.keys() & keys:
            inner = maybe_pairs[key]
            for second in inner.keys() & keys:
                candidates |= inner[second]
        sure = len(found)
        predicates, subscriptions = self._predicates, self._subscriptions
        verified = [subscriptions[entry] for entry in candidates if predicates[entry](doc_terms)]
        found.update(*verified)
        return found, sure, len(candidates), len(verified)

    def _new_entry(self, query: Query) -> int:
        plan = self._plan(query.root)
        entry = self._next_entry
        self._next_entry += 1
        self._query_entries[query] = entry
        self._queries[entry] = query
        self._subscriptions[entry] = set()
        self._plans[entry] = plan
        if not plan.sure:
            self._predicates[entry] = self._matcher.compile(query)
            self._post(plan, entry)
        return entry

    def _post(self, plan: _Plan, item: int) -> None:
        """File ``item`` (a subscription id for sure plans, else an entry id) under ``plan``."""
        if plan.second is None:
            postings = self._sure if plan.sure else self._maybe
            for key in plan.first:
                postings.setdefault(key, set()).add(item)
            return
        pairs = self._sure_pairs if plan.sure else self._maybe_pairs
        for key in plan.first:
            inner = pairs.setdefault(key, {})
            for second in plan.second:
                inner.setdefault(second, set()).add(item)

    def _unpost(self, plan: _Plan, item: int) -> None:
        if plan.second is None:
            postings = self._sure if plan.sure else self._maybe
            for key in plan.first:
                _discard(postings, key, item)
            return
        pairs = self._sure_pairs if plan.sure else self._maybe_pairs
        for key in plan.first:
            inner = pairs[key]
            for second in plan.second:
                _discard(inner, second, item)
            if not inner:
                del pairs[key]

    def _plan(self, root: Node) -> _Plan:
        groups = sorted(self._groups(root), key=self._cost)
        if not groups:
            raise QueryError(
                "this query can match an article without any of its words; "
                "it needs a word to look for outside NOT"
            )
        if self._is_sure(root):
            return _Plan(groups[0], None, sure=True)
        if len(groups) == 1:
            return _Plan(groups[0], None, sure=False)
        sure_pair = (
            isinstance(root, And)
            and len(root.children) == 2
            and all(self._is_sure(child) for child in root.children)
        )
        return _Plan(groups[0], groups[1], sure=sure_pair)

    def _cost(self, group: frozenset[str]) -> float:
        return sum(self._frequency(key) for key in group)

    def _groups(self, node: Node) -> list[frozenset[str]]:
        """Key sets every match holds a key of (see the module docstring)."""
        matcher = self._matcher
        if isinstance(node, Term):
            return [frozenset({matcher.stem(node.word)})]
        if isinstance(node, Phrase):
            return [frozenset({matcher.stem(word)}) for word in node.words]
        if isinstance(node, Source):
            first_word = matcher.source_words(node.value)[0]
            return [frozenset({host_key(node.value), name_key(first_word)})]
        if isinstance(node, Not):
            return []
        if isinstance(node, And):
            return [group for child in node.children for group in self._groups(child)]
        cheapest = []
        for child in node.children:
            groups = self._groups(child)
            if not groups:
                return []
            cheapest.append(min(groups, key=self._cost))
        return [frozenset().union(*cheapest)]

    def _is_sure(self, node: Node) -> bool:
        """True when holding any key of the node's one group is the same as matching it."""
        if isinstance(node, Term):
            return True
        if isinstance(node, Source):
            return len(self._matcher.source_words(node.value)) == 1
        if isinstance(node, Or):
            return all(self._is_sure(child) for child in node.children)
        return False


def _discard(postings: _Postings, key: str, entry: int) -> None:
    entries = postings[key]
    entries.discard(entry)
    if not entries:
        del postings[key]
