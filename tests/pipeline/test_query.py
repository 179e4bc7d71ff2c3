"""The subscription query language: parsing, canonical text, matching and the percolator."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import Stemmer
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.errors import QueryError
from bot.pipeline.percolate import SubscriptionIndex, estimated_frequency
from bot.pipeline.query import (
    MAX_LENGTH,
    And,
    DocumentTerms,
    MatchDocument,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    QueryMatcher,
    Source,
    Term,
    keep_matches,
    normalise_query,
    parse_query,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> QueryMatcher:
    return QueryMatcher()


def doc(
    text: str, title: str = "", host: str = "example.com", name: str = "Example"
) -> MatchDocument:
    return MatchDocument(title=title, text=text, source_host=host, source_name=name)


def matches(matcher: QueryMatcher, query: str, document: MatchDocument) -> bool:
    return matcher.matches(parse_query(query), matcher.document_terms(document))


# --------------------------------------------------------------------------------------------
# Parsing


class TestParse:
    def test_words_are_implicitly_anded(self) -> None:
        assert parse_query("iran sanctions").root == And((Term("iran"), Term("sanctions")))
        assert parse_query("iran AND sanctions") == parse_query("sanctions iran")

    def test_and_binds_tighter_than_or(self) -> None:
        assert parse_query("a OR b c").root == Or((Term("a"), And((Term("b"), Term("c")))))
        assert parse_query("a b OR c").root == Or((And((Term("a"), Term("b"))), Term("c")))

    def test_not_binds_tighter_than_and(self) -> None:
        assert parse_query("NOT a b").root == And((Term("b"), Not(Term("a"))))
        assert parse_query("b OR NOT a c").root == Or((Term("b"), And((Term("c"), Not(Term("a"))))))

    def test_parentheses_group(self) -> None:
        assert parse_query("c (a OR b)").root == And((Or((Term("a"), Term("b"))), Term("c")))
        assert parse_query("c NOT (a OR b)").root == And(
            (Term("c"), Not(Or((Term("a"), Term("b")))))
        )

    def test_dash_is_not_before_a_term_and_joins_inside_a_word(self) -> None:
        assert parse_query("iran -football") == parse_query("iran NOT football")
        assert parse_query('iran -"oil price"').root == And(
            (Term("iran"), Not(Phrase(("oil", "price"))))
        )
        assert parse_query("iran -(a b)") == parse_query("iran NOT (a b)")
        assert parse_query("well-known").root == Phrase(("well", "known"))
        assert parse_query("covid-19").root == Phrase(("covid", "19"))

    def test_phrases(self) -> None:
        assert parse_query('"Nuclear  Deal"').root == Phrase(("nuclear", "deal"))
        assert parse_query('"deal"').root == Term("deal")
        assert parse_query('"rock and roll"').root == Phrase(("rock", "and", "roll"))

    def test_words_are_lowercased_and_punctuation_dropped(self) -> None:
        assert parse_query("IRAN").root == Term("iran")
        assert parse_query("U.S.").root == Term("us")
        assert parse_query("#Brexit!").root == Term("brexit")
        assert parse_query("1,000").root == Term("1,000")

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("source:bbc.co.uk", "bbc.co.uk"),
            ("source:BBC.co.uk", "bbc.co.uk"),
            ("source:www.bbc.co.uk", "bbc.co.uk"),
            ("source:https://www.bbc.co.uk/news/world", "bbc.co.uk"),
            ('source:"BBC   News"', "bbc news"),
            ("SOURCE:reuters", "reuters"),
        ],
    )
    def test_source(self, text: str, value: str) -> None:
        assert parse_query(text).root == Source(value)

    def test_canonical_form_ignores_order_duplicates_and_double_negation(self) -> None:
        assert parse_query("b a b") == parse_query("a b")
        assert parse_query("(a OR b) OR c") == parse_query("c OR b OR a")
        assert parse_query("a AND (b AND c)") == parse_query("c b a")
        assert parse_query("x NOT NOT y") == parse_query("x y")
        assert parse_query("((a))") == parse_query("a")

    @pytest.mark.parametrize(
        ("text", "canonical"),
        [
            ("Sanctions  AND iran", "iran sanctions"),
            ("iran -football", "iran NOT football"),
            ("sanctions (iran OR iraq)", "(iran OR iraq) sanctions"),
            ('-"oil price" iran', 'iran NOT "oil price"'),
            ("x NOT (a OR b)", "x NOT (a OR b)"),
            ('"and" rock', '"and" rock'),
            ('source:"BBC News" deal', 'deal source:"bbc news"'),
            ("well-known", '"well known"'),
        ],
    )
    def test_normalise(self, text: str, canonical: str) -> None:
        query = parse_query(text)
        assert normalise_query(query) == canonical
        assert parse_query(canonical) == query


class TestParseErrors:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "empty query"),
            ("   ", "empty query"),
            ("(iran sanctions", "'(' at position 1 is never closed"),
            ("iran (a OR b", "'(' at position 6 is never closed"),
            ("iran sanctions)", "')' at position 15 has no matching '('"),
            ("()", "empty parentheses at position 1"),
            ("iran NOT", "NOT at position 6 needs a term after it"),
            ("NOT", "NOT at position 1 needs a term after it"),
            ("iran OR", "OR at position 6 needs a term on both sides"),
            ("OR iran", "OR at position 1 needs a term on both sides"),
            ("iran AND OR x", "AND at position 6 needs a term on both sides"),
            ('iran "oil price', "the quote at position 6 never ends"),
            ('""', "empty phrase at position 1"),
            ("iran - oil", "'-' at position 6 must be followed directly by a term"),
            ("+++", "'+++' at position 1 has no letters or digits"),
            ("iran or iraq", 'lowercase "or" at position 6: write OR in capitals'),
            ("bosnia and herzegovina", 'lowercase "and" at position 8'),
            ("title:iran", "unknown field 'title:' at position 1"),
            ("source: iran", "source: at position 1 needs a site or source name"),
            ('source:"..."', "source: at position 1 needs a site or source name"),
            ("iran source:http://[bbc", "source: at position 6 is not a valid address"),
        ],
    )
    def test_errors_say_what_and_where(self, text: str, message: str) -> None:
        with pytest.raises(QueryError) as caught:
            parse_query(text)
        assert message in str(caught.value)

    @pytest.mark.parametrize("text", ["NOT iran", "-iran -iraq", "-(iran OR iraq)"])
    def test_only_not_terms_is_rejected(self, text: str) -> None:
        with pytest.raises(QueryError, match="cannot be only NOT terms"):
            parse_query(text)

    @pytest.mark.parametrize("text", ["iran OR NOT iraq", "(a OR -b) -c"])
    def test_or_with_a_purely_negative_side_is_rejected(self, text: str) -> None:
        with pytest.raises(QueryError, match="every side of an OR needs a word"):
            parse_query(text)


class TestCaps:
    def test_length(self) -> None:
        parse_query("a" * MAX_LENGTH)
        with pytest.raises(QueryError, match="at most 200 characters \\(yours has 201\\)"):
            parse_query("a" * (MAX_LENGTH + 1))

    def test_length_of_the_tidied_form(self) -> None:
        text = " ".join(f"abcdefg{i}-ijklmnop" for i in range(11))
        assert len(text) <= MAX_LENGTH
        with pytest.raises(QueryError, match="at most 200 characters once tidied"):
            parse_query(text)

    def test_terms(self) -> None:
        parse_query(" ".join(f"w{i}" for i in range(20)))
        with pytest.raises(QueryError, match="too many terms: at most 20 \\(term 21 starts at"):
            parse_query(" ".join(f"w{i}" for i in range(21)))

    def test_phrases_and_sources_count_as_terms(self) -> None:
        with pytest.raises(QueryError, match="too many terms"):
            parse_query(" ".join(['"a b"'] * 11 + ["source:x.org"] * 10))

    def test_depth(self) -> None:
        parse_query("(" * 5 + "a" + ")" * 5)
        with pytest.raises(QueryError, match="at most 5 levels of parentheses \\(position 6\\)"):
            parse_query("(" * 6 + "a" + ")" * 6)

    def test_phrase_words(self) -> None:
        parse_query('"a b c d e f g h"')
        with pytest.raises(QueryError, match="at most 8 words \\(the one at position 3 has 9\\)"):
            parse_query('x "a b c d e f g h i"')
        with pytest.raises(QueryError, match="phrase too long"):
            parse_query("a-b-c-d-e-f-g-h-i")


# --------------------------------------------------------------------------------------------
# Matching


class TestStemming:
    @pytest.mark.parametrize("text", ["New sanctions on oil", "The US sanctioned them", "SANCTION"])
    def test_word_forms_match(self, matcher: QueryMatcher, text: str) -> None:
        assert matches(matcher, "sanction", doc(text))
        assert matches(matcher, "sanctions", doc(text))

    def test_iran_and_iraq_are_distinct(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, "iran", doc("Talks with Iran resumed"))
        assert not matches(matcher, "iran", doc("Talks with Iraq resumed"))
        assert not matches(matcher, "iraq", doc("Talks with Iran resumed"))
        assert matches(matcher, "iran", doc("Iran's foreign minister"))

    def test_case_and_accents_are_ignored(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, '"sao paulo"', doc("Floods in São Paulo"))
        assert matches(matcher, "SÃO", doc("Floods in sao paulo"))

    def test_punctuation_is_not_part_of_words(self, matcher: QueryMatcher) -> None:
        text = doc('"Iran\'s" (sanctions), oil/price; “deal”—talks… 3.5% rise')
        assert matcher.document_terms(text).tokens[1:] == (
            "iran",
            "sanction",
            "oil",
            "price",
            "deal",
            "talk",
            "3.5",
            "rise",
        )

    def test_abbreviations_and_hyphens(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, "US", doc("The U.S. economy"))
        assert matches(matcher, "known", doc("A well-known case"))
        assert matches(matcher, "well-known", doc("It was well known"))

    def test_stemmer_needs_no_nltk_data(self, tmp_path: Path) -> None:
        code = (
            "from bot.pipeline.query import QueryMatcher, MatchDocument, parse_query\n"
            "m = QueryMatcher()\n"
            "t = m.document_terms(MatchDocument('', 'sanctioned', 'x.org', 'X'))\n"
            "print(m.matches(parse_query('sanction'), t))\n"
        )
        env = {**os.environ, "NLTK_DATA": str(tmp_path), "PYTHONPATH": str(REPO)}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "True"


class TestOperators:
    def test_and_or_not(self, matcher: QueryMatcher) -> None:
        text = doc("Iran and the oil market")
        assert matches(matcher, "iran oil", text)
        assert not matches(matcher, "iran football", text)
        assert matches(matcher, "iran OR football", text)
        assert matches(matcher, "iran -football", text)
        assert not matches(matcher, "iran -oil", text)
        assert matches(matcher, "(iraq OR iran) NOT (football OR tennis)", text)

    def test_title_and_text_both_count(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, "iran oil", doc("Oil prices rose", title="Iran"))


class TestPhrases:
    def test_consecutive_stemmed_words(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, '"oil price"', doc("Oil prices rose"))
        assert matches(matcher, '"oil price"', doc("Crude oil, prices rose"))
        assert not matches(matcher, '"oil price"', doc("The price of oil rose"))
        assert not matches(matcher, '"oil price"', doc("oil and prices"))

    def test_repeated_first_word(self, matcher: QueryMatcher) -> None:
        assert matches(matcher, '"oil price"', doc("oil oil oil oil price"))

    def test_not_across_title_and_text(self, matcher: QueryMatcher) -> None:
        assert not matches(matcher, '"oil price"', doc("price war", title="Saudi oil"))
        assert matches(matcher, '"oil price"', doc("war", title="Saudi oil price"))


class TestSources:
    @pytest.mark.parametrize(
        ("query", "host", "name", "expected"),
        [
            ("source:bbc.co.uk", "bbc.co.uk", "", True),
            ("source:bbc.co.uk", "feeds.bbc.co.uk", "", True),
            ("source:bbc.co.uk", "www.bbc.co.uk", "", True),
            ("source:www.bbc.co.uk", "feeds.bbc.co.uk", "", True),
            ("source:bbc.co.uk", "feeds.bbci.co.uk", "", False),
            ("source:bbc.co.uk", "notbbc.co.uk", "", False),
            ("source:feeds.bbc.co.uk", "bbc.co.uk", "", False),
            ("source:bbc.co.uk", "FEEDS.BBC.CO.UK.", "", True),
            ("source:bbc.co.uk", "https://feeds.bbc.co.uk:443/news", "", True),
            ("source:bbc", "feeds.bbci.co.uk", "BBC News", True),
            ("source:news", "x.org", "BBC News", True),
            ('source:"bbc news"', "x.org", "The BBC News Channel", True),
            ('source:"news bbc"', "x.org", "BBC News", False),
            ("source:reuters", "reuters.com", "Thomson", False),
            ("source:reuters", "", "Reuters", True),
        ],
    )
    def test_host_or_name(
        self, matcher: QueryMatcher, query: str, host: str, name: str, expected: bool
    ) -> None:
        assert matches(matcher, query, doc("text", host=host, name=name)) is expected

    def test_source_and_words(self, matcher: QueryMatcher) -> None:
        bbc = doc("Iran talks", host="feeds.bbc.co.uk", name="BBC")
        assert matches(matcher, "iran source:bbc.co.uk", bbc)
        assert not matches(matcher, "iran -source:bbc.co.uk", bbc)
        assert not matches(matcher, "iran source:reuters.com", bbc)


# --------------------------------------------------------------------------------------------
# The percolator


class TestSubscriptionIndex:
    def test_add_match_remove(self, matcher: QueryMatcher) -> None:
        index = SubscriptionIndex(matcher)
        index.add(1, parse_query("iran"))
        index.add(2, parse_query("iran sanctions"))
        index.add(3, parse_query("football"))
        index.add(4, parse_query('"oil price" OR source:bbc.co.uk'))
        index.add(5, parse_query("iran"))
        assert len(index) == 5
        terms = matcher.document_terms(doc("New sanctions on Iran", host="bbc.co.uk"))
        assert index.match(terms) == {1, 2, 4, 5}
        index.remove(1)
        index.remove(99)
        assert index.match(terms) == {2, 4, 5}
        index.remove(5)
        assert index.match(terms) == {2, 4}
        assert len(index) == 3
        assert 1 not in index
        assert 2 in index

    def test_add_replaces_a_subscriptions_query(self, matcher: QueryMatcher) -> None:
        index = SubscriptionIndex(matcher)
        index.add(1, parse_query("iran"))
        index.add(1, parse_query("football"))
        assert len(index) == 1
        assert index.match(matcher.document_terms(doc("Iran"))) == set()
        assert index.match(matcher.document_terms(doc("Football"))) == {1}

    def test_refuses_a_query_without_anchors(self, matcher: QueryMatcher) -> None:
        index = SubscriptionIndex(matcher)
        with pytest.raises(QueryError, match="without any of its words"):
            index.add(1, Query(Not(Term("iran"))))
        assert len(index) == 0

    def test_stats_count_sure_and_verified_queries(self, matcher: QueryMatcher) -> None:
        index = SubscriptionIndex(matcher)
        index.add(1, parse_query("iran"))
        index.add(2, parse_query("iran"))
        index.add(3, parse_query("iran -football"))
        index.add(4, parse_query("iran OR iraq"))
        index.add(5, parse_query("iran oil"))
        stats = index.match_stats(matcher.document_terms(doc("Iran")))
        assert (stats.sure, stats.verified, stats.verified_matches) == (3, 1, 1)
        assert stats.matched_subscriptions == 4


# --------------------------------------------------------------------------------------------
# Properties

VOCABULARY = ["iran", "iraq", "sanction", "sanctions", "oil", "price", "prices", "deal", "the"]
DOC_WORDS = [*VOCABULARY, "sanctioned", "iranian", "nuclear"]
HOSTS = ["bbc.co.uk", "feeds.bbc.co.uk", "bbci.co.uk", "example.com", ""]
NAMES = ["BBC News", "Reuters", "Example Daily", ""]
SOURCES = ["bbc.co.uk", "bbc", "co.uk", "example.com", "reuters", '"bbc news"', '"news daily"']

leaves = st.one_of(
    st.sampled_from(VOCABULARY),
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=3).map(
        lambda words: '"' + " ".join(words) + '"'
    ),
    st.sampled_from(SOURCES).map(lambda value: "source:" + value),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        children.map(lambda text: f"({text})"),
        pair.map(" ".join),
        pair.map(" AND ".join),
        pair.map(" OR ".join),
        children.map(lambda text: f"NOT {text}"),
        leaves.map(lambda text: f"-{text}"),
    )


query_texts = st.recursive(leaves, _combine, max_leaves=6)


def _valid_query(text: str) -> Query:
    try:
        return parse_query(text)
    except QueryError:
        assume(False)
        raise


documents = st.builds(
    lambda title, text, host, name: doc(" ".join(text), " ".join(title), host, name),
    st.lists(st.sampled_from(DOC_WORDS), max_size=4),
    st.lists(st.sampled_from(DOC_WORDS), max_size=12),
    st.sampled_from(HOSTS),
    st.sampled_from(NAMES),
)


def reference_match(node: Node, document: MatchDocument) -> bool:
    """A plain, slow restatement of the language's meaning for the test vocabulary."""
    stem = Stemmer.Stemmer("english").stemWord
    title = [stem(word) for word in document.title.lower().split()]
    text = [stem(word) for word in document.text.lower().split()]

    def has_run(sequence: list[str], run: list[str]) -> bool:
        return any(sequence[i : i + len(run)] == run for i in range(len(sequence)))

    def evaluate(node: Node) -> bool:
        if isinstance(node, Term):
            return stem(node.word) in title + text
        if isinstance(node, Phrase):
            run = [stem(word) for word in node.words]
            return has_run(title, run) or has_run(text, run)
        if isinstance(node, Source):
            host = document.source_host
            return (
                host == node.value
                or host.endswith("." + node.value)
                or has_run(document.source_name.lower().split(), node.value.split())
            )
        if isinstance(node, Not):
            return not evaluate(node.child)
        if isinstance(node, And):
            return all(evaluate(child) for child in node.children)
        return any(evaluate(child) for child in node.children)

    return evaluate(node)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab -()"ORNTD:source.x\t', max_size=40))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError:
        return
    canonical = normalise_query(query)
    assert parse_query(canonical) == query
    assert normalise_query(parse_query(canonical)) == canonical


@settings(max_examples=300, deadline=None)
@given(query_texts)
def test_normalise_round_trips(text: str) -> None:
    query = _valid_query(text)
    assert parse_query(normalise_query(query)) == query


@settings(max_examples=200, deadline=None)
@given(query_texts, documents)
def test_matcher_agrees_with_the_reference_meaning(text: str, document: MatchDocument) -> None:
    query = _valid_query(text)
    matcher = QueryMatcher()
    terms = matcher.document_terms(document)
    assert matcher.matches(query, terms) is reference_match(query.root, document)


@settings(max_examples=100, deadline=None)
@given(documents)
def test_tokens_computed_ahead_give_the_same_terms(document: MatchDocument) -> None:
    worker = QueryMatcher(cache_size=2, word_cache_size=2)  # evictions change no stem
    ahead = replace(document, tokens=worker.tokens(document.title, document.text))
    assert QueryMatcher().document_terms(ahead) == QueryMatcher().document_terms(document)


FREQUENCIES = {
    "estimated": estimated_frequency,
    "constant": lambda key: 1.0,
    "reversed": lambda key: float(len(key)),
}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(query_texts, min_size=1, max_size=12),
    st.lists(documents, min_size=1, max_size=6),
    st.sampled_from(sorted(FREQUENCIES)),
    st.sets(st.integers(0, 23)),
)
def test_index_matches_exactly_what_brute_force_matches(
    texts: list[str], docs: list[MatchDocument], frequency: str, removed: set[int]
) -> None:
    queries = []
    for text in texts:
        try:
            queries.append(parse_query(text))
        except QueryError:
            continue
    assume(queries)
    matcher = QueryMatcher()
    index = SubscriptionIndex(matcher, term_frequency=FREQUENCIES[frequency])
    subscriptions = dict(enumerate(queries + queries))
    for subscription_id, query in subscriptions.items():
        index.add(subscription_id, query)
    for subscription_id in removed:
        index.remove(subscription_id)
        subscriptions.pop(subscription_id, None)
    replaced = sorted(removed)[::2] + list(subscriptions)[:2]
    for subscription_id in replaced:
        query = queries[subscription_id % len(queries) - 1]
        index.add(subscription_id, query)
        subscriptions[subscription_id] = query
    assert len(index) == len(subscriptions)
    for document in docs:
        terms: DocumentTerms = matcher.document_terms(document)
        expected = {i for i, query in subscriptions.items() if matcher.matches(query, terms)}
        assert index.match(terms) == expected


def test_keep_matches_adds_the_inflections_a_new_stemmer_separates() -> None:
    def old_stem(word: str) -> str:  # joined "cat" and "cats"
        return word.removesuffix("s")

    def new_stem(word: str) -> str:  # keeps every word apart
        return word

    query = parse_query('cat NOT dogs "cat food" source:bbc.co.uk')
    widened = keep_matches(query, old_stem, new_stem)
    assert normalise_query(widened) == '"cat food" (cat OR cats) source:bbc.co.uk NOT dogs'
    assert keep_matches(query, old_stem, old_stem) is query


def test_keep_matches_leaves_a_query_that_would_outgrow_the_caps() -> None:
    query = parse_query(" ".join(f"w{n}x" for n in range(20)))
    assert keep_matches(query, lambda word: word.rstrip("s"), lambda word: word) is query


def test_pystemmer_keeps_what_nltk_snowball_matched_for_the_words_they_stem_apart() -> None:
    from nltk.stem.snowball import SnowballStemmer

    old_stem = SnowballStemmer("english").stem
    new_stem = Stemmer.Stemmer("english").stemWord
    matcher = QueryMatcher()
    for word, inflection in [("realization", "realizations"), ("sanction", "sanctions")]:
        query = parse_query(word)
        assert keep_matches(query, old_stem, new_stem) == query
        document = MatchDocument(f"New {inflection}", "", "news.example", "News")
        assert matcher.matches(query, matcher.document_terms(document))
