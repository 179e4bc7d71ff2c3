"""The topic-alert query language: parser, canonical form and matcher.

What a user types in ``/subscribe query``::

    sanctions iran                  both words (implicit AND)
    iran AND sanctions              the same, spelled out
    iran OR iraq                    either word
    iran NOT football               ``NOT`` (or ``-football``) excludes a term
    "nuclear deal"                  a phrase: consecutive words
    (iran OR iraq) -"oil price"     parentheses group; ``-`` works before any term
    source:bbc.co.uk                an article from that host or one of its subdomains
    source:"BBC News"               ... or whose source name contains those words

Rules:

- ``AND``, ``OR`` and ``NOT`` are keywords only in capitals. A lowercase ``and``/``or``/``not``
  is rejected with a hint (it would otherwise silently require the literal word); quote it
  (``"rock and roll"``) to match it as a word.
- Precedence: ``NOT`` binds tightest, then ``AND`` (or adjacency), then ``OR``.
- ``-`` right before a term, phrase, ``source:`` or ``(`` means ``NOT``; a ``-`` inside a word
  ("well-known", "covid-19") joins the parts into a phrase.
- Matching ignores case and accents and compares Snowball (English) stems (PyStemmer, the
  C Snowball), so ``sanction``
  matches "sanctions" and "sanctioned". Phrases match consecutive stemmed words of the title
  or of the text (never across the two).
- ``source:X`` matches when the article's host is ``X`` or a subdomain of it
  (``source:bbc.co.uk`` matches ``feeds.bbc.co.uk``, not ``feeds.bbci.co.uk``; a leading
  ``www.`` or a whole URL is accepted), or when the words of ``X`` appear consecutively in the
  source's display name, case-insensitively (``source:bbc`` matches "BBC News").
- A query must be able to match only through a word, phrase or source it names: a query that
  is only ``NOT`` terms, or an ``OR`` with a purely negative side, is rejected because it would
  match nearly every article.
- Caps: 200 characters, 20 terms, 5 levels of parentheses, 8 words per phrase. Errors name the
  cap, or what is wrong and where (1-based character positions).

:func:`parse_query` builds a canonical AST (nested ``AND``/``OR`` flattened, duplicates
removed, operands sorted, double negation removed), so two queries that differ only in those
respects are equal, and :func:`normalise_query` prints it back: ``parse_query(normalise_query(q))
== q``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from urllib.parse import urlsplit

import Stemmer

from bot.core.errors import QueryError
from bot.core.query import And, Node, Not, Or, Phrase, Query, Source, Term
from bot.pipeline.tokenize import split_words

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_PHRASE_WORDS",
    "MAX_TERMS",
    "And",
    "DocumentTerms",
    "MatchDocument",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Predicate",
    "Query",
    "QueryMatcher",
    "Source",
    "Term",
    "host_key",
    "keep_matches",
    "name_key",
    "normalise_query",
    "parse_query",
    "query_words",
]

MAX_LENGTH = 200
MAX_TERMS = 20
MAX_DEPTH = 5
MAX_PHRASE_WORDS = 8

_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$")
_ABBREVIATION = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")
_FIELD = re.compile(r"^([^\W\d_]+):")
_KEYWORDS = frozenset({"AND", "OR", "NOT"})
_BOUNDARY = "\n"
"""Stands between title and text tokens so no phrase spans both (no word contains it)."""


# --------------------------------------------------------------------------------------------
# Words


def _fold(token: str) -> str:
    """Lowercase, strip accents, straighten apostrophes."""
    token = token.casefold().replace("’", "'")
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _token_parts(token: str) -> list[str]:
    """Split one :func:`split_words` token into the words matching compares.

    Hyphens always separate ("well-known" -> well, known); dots join single letters
    ("U.S" -> us) and separate anything else ("said.The" -> said, the); numbers
    ("3.5", "1,000") stay whole.
    """
    if _NUMBER.match(token):
        return [token]
    parts = []
    for piece in token.split("-"):
        if not piece:
            continue
        if "." in piece:
            if _ABBREVIATION.match(piece):
                parts.append(piece.replace(".", ""))
            else:
                parts.extend(p for p in piece.split(".") if p)
        else:
            parts.append(piece)
    return parts


def query_words(text: str) -> list[str]:
    """The words of ``text`` as the language sees them: lowercased, accents kept."""
    words: list[str] = []
    for token in split_words(text.casefold().replace("’", "'")):
        words.extend(_token_parts(token))
    return words


# --------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    """One of ``( ) AND OR NOT WORDS SOURCE END``."""
    position: int
    """1-based character position in the query text."""
    words: tuple[str, ...] = ()
    value: str = ""


_STARTERS = frozenset({"(", "NOT", "WORDS", "SOURCE"})


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(_Token(char, index + 1))
            index += 1
        elif char == '"':
            end = text.find('"', index + 1)
            if end < 0:
                raise QueryError(f"unclosed quote: the quote at position {index + 1} never ends")
            tokens.append(_phrase_token(text[index + 1 : end], index + 1))
            index = end + 1
        else:
            end = index
            while end < length and not text[end].isspace() and text[end] not in '()"':
                end += 1
            index = _lex_run(text, index, end, tokens)
    tokens.append(_Token("END", length + 1))
    return tokens


def _lex_run(text: str, start: int, end: int, tokens: list[_Token]) -> int:
    """Lex the bare run ``text[start:end]``; return where lexing continues."""
    run = text[start:end]
    position = start + 1
    if run.startswith("-"):
        following = text[start + 1 : start + 2]
        if not following or following.isspace() or following == ")":
            raise QueryError(
                f"'-' at position {position} must be followed directly by a term, e.g. -sport"
            )
        tokens.append(_Token("NOT", position))
        return start + 1
    if run in _KEYWORDS:
        tokens.append(_Token(run, position))
        return end
    if run.casefold() in {"and", "or", "not"}:
        keyword = run.upper()
        raise QueryError(
            f'lowercase "{run}" at position {position}: write {keyword} in capitals to use it '
            f'as an operator, or put it in quotes (e.g. "rock and roll") to match the word'
        )
    field = _FIELD.match(run)
    if field:
        if field.group(1).casefold() != "source":
            raise QueryError(
                f"unknown field '{field.group(1)}:' at position {position}; "
                "the only field is source:"
            )
        value_start = start + len(field.group(0))
        if value_start == end and text[end : end + 1] == '"':
            close = text.find('"', end + 1)
            if close < 0:
                raise QueryError(f"unclosed quote: the quote at position {end + 1} never ends")
            tokens.append(_source_token(text[end + 1 : close], position))
            return close + 1
        tokens.append(_source_token(text[value_start:end], position))
        return end
    if not query_words(run):
        raise QueryError(f"'{run}' at position {position} has no letters or digits to match")
    tokens.append(_words_token(run, position))
    return end


def _phrase_token(content: str, position: int) -> _Token:
    if not query_words(content):
        raise QueryError(f"empty phrase at position {position}: put words between the quotes")
    return _words_token(content, position)


def _words_token(content: str, position: int) -> _Token:
    """A word, or a phrase when ``content`` holds several ("nuclear deal", "well-known")."""
    words = tuple(query_words(content))
    if len(words) > MAX_PHRASE_WORDS:
        raise QueryError(
            f"phrase too long: at most {MAX_PHRASE_WORDS} words "
            f"(the one at position {position} has {len(words)})"
        )
    return _Token("WORDS", position, words=words)


def _source_token(raw: str, position: int) -> _Token:
    try:
        value = _normalise_source(raw)
    except ValueError as error:
        raise QueryError(f"source: at position {position} is not a valid address") from error
    if not query_words(value):
        raise QueryError(
            f"source: at position {position} needs a site or source name after it, "
            "e.g. source:bbc.co.uk"
        )
    return _Token("SOURCE", position, value=value)


def _normalise_source(raw: str) -> str:
    """Lowercase, spaces collapsed, a URL reduced to its host, no ``www.`` or outer dots."""
    value = " ".join(raw.split()).casefold()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    previous = None
    while value != previous:
        previous = value
        value = value.strip(".").removeprefix("www.")
    return value


class _Parser:
    """Recursive descent over the tokens; builds canonical nodes as it goes."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._terms = 0

    def parse(self) -> Node:
        node = self._or()
        token = self._peek()
        if token.kind == ")":
            raise QueryError(
                f"unbalanced parenthesis: ')' at position {token.position} has no matching '('"
            )
        return node

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _next(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek().kind == "OR":
            operator = self._next()
            if self._peek().kind not in _STARTERS:
                raise QueryError(f"OR at position {operator.position} needs a term on both sides")
            children.append(self._and())
        return _make_or(children)

    def _and(self) -> Node:
        children = [self._unary()]
        while self._peek().kind in _STARTERS or self._peek().kind == "AND":
            if self._peek().kind == "AND":
                operator = self._next()
                if self._peek().kind not in _STARTERS:
                    raise QueryError(
                        f"AND at position {operator.position} needs a term on both sides"
                    )
            children.append(self._unary())
        return _make_and(children)

    def _unary(self) -> Node:
        if self._peek().kind == "NOT":
            operator = self._next()
            if self._peek().kind not in _STARTERS:
                raise QueryError(f"NOT at position {operator.position} needs a term after it")
            return _negate(self._unary())
        return self._atom()

    def _atom(self) -> Node:
        token = self._next()
        if token.kind == "(":
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise QueryError(
                    f"too deeply nested: at most {MAX_DEPTH} levels of parentheses "
                    f"(position {token.position})"
                )
            if self._peek().kind == ")":
                raise QueryError(f"empty parentheses at position {token.position}")
            node = self._or()
            if self._next().kind != ")":
                raise QueryError(
                    f"unbalanced parenthesis: '(' at position {token.position} is never closed"
                )
            self._depth -= 1
            return node
        if token.kind in ("WORDS", "SOURCE"):
            self._terms += 1
            if self._terms > MAX_TERMS:
                raise QueryError(
                    f"too many terms: at most {MAX_TERMS} "
                    f"(term {self._terms} starts at position {token.position})"
                )
            if token.kind == "SOURCE":
                return Source(token.value)
            if len(token.words) == 1:
                return Term(token.words[0])
            return Phrase(token.words)
        if token.kind == ")":
            raise QueryError(
                f"unbalanced parenthesis: ')' at position {token.position} has no matching '('"
            )
        if token.kind in ("AND", "OR"):
            raise QueryError(
                f"{token.kind} at position {token.position} needs a term on both sides"
            )
        raise QueryError("empty query: type the words to look for")


def _sort_key(node: Node) -> tuple[bool, str]:
    return (isinstance(node, Not), _render(node))


def _make_group(kind: type[And] | type[Or], items: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.children if isinstance(item, kind) else (item,))
    unique = sorted(set(flat), key=_sort_key)
    return unique[0] if len(unique) == 1 else kind(tuple(unique))


def _make_and(items: Iterable[Node]) -> Node:
    return _make_group(And, items)


def _make_or(items: Iterable[Node]) -> Node:
    return _make_group(Or, items)


def _negate(node: Node) -> Node:
    return node.child if isinstance(node, Not) else Not(node)


def _has_anchor(node: Node) -> bool:
    """True when every match must contain a word, phrase or source that the query names."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_anchor(child) for child in node.children)
    if isinstance(node, Or):
        return all(_has_anchor(child) for child in node.children)
    return True


def parse_query(text: str) -> Query:
    """Parse a subscription query; raise :class:`QueryError` saying what is wrong and where."""
    stripped = text.strip()
    if not stripped:
        raise QueryError("empty query: type the words to look for")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"query too long: at most {MAX_LENGTH} characters (yours has {len(text)})")
    root = _Parser(_lex(text)).parse()
    if not _has_anchor(root):
        if isinstance(root, Not) or (
            isinstance(root, And) and all(isinstance(c, Not) for c in root.children)
        ):
            raise QueryError(
                "a query cannot be only NOT terms: it would match almost every article; "
                "add a word to look for"
            )
        raise QueryError(
            "every side of an OR needs a word to look for: an OR with a side that is only "
            "NOT terms would match almost every article"
        )
    query = Query(root)
    canonical = normalise_query(query)
    if len(canonical) > MAX_LENGTH:
        raise QueryError(
            f"query too long: at most {MAX_LENGTH} characters once tidied "
            f"(it becomes {len(canonical)}: {canonical[:40]}…)"
        )
    return query


# --------------------------------------------------------------------------------------------
# Canonical text


def _render_word(word: str) -> str:
    if word.upper() in _KEYWORDS or query_words(word) != [word]:
        return f'"{word}"'
    return word


def _render(node: Node) -> str:
    if isinstance(node, Term):
        return _render_word(node.word)
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"'
    if isinstance(node, Source):
        if any(char.isspace() or char in '()"' for char in node.value):
            return f'source:"{node.value}"'
        return f"source:{node.value}"
    if isinstance(node, Not):
        inner = _render(node.child)
        return f"NOT ({inner})" if isinstance(node.child, And | Or) else f"NOT {inner}"
    if isinstance(node, And):
        return " ".join(
            f"({_render(child)})" if isinstance(child, Or) else _render(child)
            for child in node.children
        )
    return " OR ".join(_render(child) for child in node.children)


def normalise_query(query: Query) -> str:
    """The canonical text of ``query``: equal queries print equal, and it parses back to
    ``query``. Implicit AND, capital ``OR``/``NOT``, lowercase words, sorted operands."""
    return _render(query.root)


# --------------------------------------------------------------------------------------------
# Changing stemmers

_INFLECTIONS = ("s", "es", "ed", "ing", "er", "ers", "ly", "al", "ally", "ation", "ations",
                "ity", "ities", "ize", "ized", "izes", "ization", "ist", "ists", "ism", "ness",
                "ment", "ments", "e", "y", "ies")  # fmt: skip
"""Endings tried on a word to find the inflections a stemmer joined to it."""


def keep_matches(
    query: Query, old_stem: Callable[[str], str], new_stem: Callable[[str], str]
) -> Query:
    """``query`` made to match at least what it matched when words were stemmed with
    ``old_stem``, now that they are stemmed with ``new_stem`` (both take one folded word).

    A word outside any ``NOT`` gets, as ``OR`` alternatives, its inflections (the word plus
    a common ending) that the old stemmer joined to it and the new one separates. Phrases
    and excluded words stay as they are (widening an exclusion would match less). A query
    that would outgrow the caps stays as it is.
    """

    def stem(word: str, stemmer: Callable[[str], str]) -> str:
        return "".join(stemmer(_fold(part)) for part in _words_of(word))

    def widen(node: Node) -> Node:
        if isinstance(node, Term):
            old, new = stem(node.word, old_stem), stem(node.word, new_stem)
            extras: dict[str, str] = {}
            for ending in _INFLECTIONS:
                word = node.word + ending
                joined = stem(word, new_stem)
                if stem(word, old_stem) == old and joined != new:
                    extras.setdefault(joined, word)
            if not extras:
                return node
            return Or((node, *(Term(word) for word in sorted(extras.values()))))
        if isinstance(node, And | Or):
            return type(node)(tuple(widen(child) for child in node.children))
        return node  # Not, Phrase, Source

    widened = widen(query.root)
    if widened == query.root:
        return query
    try:
        return parse_query(_render(widened))
    except QueryError:
        return query


def _words_of(word: str) -> list[str]:
    return [part for token in split_words(word) for part in _token_parts(token)]


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class MatchDocument:
    """What alert matching needs to know about an article."""

    title: str
    text: str
    source_host: str
    source_name: str
    tokens: tuple[str, ...] | None = None
    """:meth:`QueryMatcher.tokens` of the title and text, when computed ahead (in a parser
    worker); None: computed on matching."""


@dataclass(frozen=True, slots=True)
class DocumentTerms:
    """An article reduced for matching; build once per article with
    :meth:`QueryMatcher.document_terms` and match it against any number of queries."""

    stems: frozenset[str]
    """Every stem in the title and text."""
    tokens: tuple[str, ...]
    """The stems in order (title, a boundary marker, text): phrase positions."""
    source_keys: frozenset[str]
    """``host:<h>`` for the host and each parent domain, ``name:<w>`` for each name word."""
    source_words: tuple[str, ...]
    """The words of the source's name, for ``source:"two words"``."""
    keys: frozenset[str]
    """Stems and source keys together: what a
    :class:`~bot.pipeline.percolate.SubscriptionIndex` looks up."""


Predicate = Callable[[DocumentTerms], bool]


def host_key(host: str) -> str:
    """The index key of a host (or parent domain) in :attr:`DocumentTerms.source_keys`."""
    return "host:" + host


def name_key(word: str) -> str:
    """The index key of one source-name word in :attr:`DocumentTerms.source_keys`."""
    return "name:" + word


def _has_run(sequence: tuple[str, ...], run: tuple[str, ...]) -> bool:
    """True when ``run`` occurs as consecutive items of ``sequence``."""
    first, size = run[0], len(run)
    start = -1
    try:
        while True:
            start = sequence.index(first, start + 1)
            if sequence[start : start + size] == run:
                return True
    except ValueError:
        return False


class QueryMatcher:
    """Stems words (cached per instance) and decides whether an article matches a query."""

    __slots__ = ("_compile_cached", "_stem_chunk")

    def __init__(self, *, cache_size: int = 65536, word_cache_size: int = 65536) -> None:
        """``cache_size`` bounds the per-instance cache of stemmed text chunks
        ("Iran's,"), ``word_cache_size`` the one of stemmed words behind it ("iran's"):
        a chunk seen for the first time is usually a known word with new punctuation or
        case."""
        stem_word = lru_cache(maxsize=word_cache_size)(Stemmer.Stemmer("english").stemWord)

        def stem_chunk(chunk: str) -> tuple[str, ...]:
            """The stems of one whitespace-free chunk of text ("Iran's," -> ("iran",))."""
            return tuple(
                stem_word(_fold(part))
                for token in split_words(chunk)
                for part in _token_parts(token)
            )

        self._stem_chunk = lru_cache(maxsize=cache_size)(stem_chunk)
        self._compile_cached = lru_cache(maxsize=4096)(self._compile_query)

    def stem(self, word: str) -> str:
        """The stem that stands for ``word`` (one word as :func:`query_words` yields it)."""
        return "".join(self._stem_chunk(word))

    def stems(self, text: str) -> list[str]:
        """The stems of ``text`` in order.

        Words never span whitespace, so the text is split on it first and each chunk is
        stemmed through the cache: a regular expression runs once per distinct chunk.
        """
        return list(chain.from_iterable(map(self._stem_chunk, text.split())))

    def source_words(self, text: str) -> tuple[str, ...]:
        """The words of a source name or ``source:`` value, folded but not stemmed."""
        return tuple(_fold(word) for word in query_words(text))

    def tokens(self, title: str, text: str) -> tuple[str, ...]:
        """The stems of ``title`` and ``text`` in order, with a boundary marker between them:
        the costly part of :meth:`document_terms`, which a parser worker may do ahead
        (:attr:`MatchDocument.tokens`)."""
        stem_chunk = self._stem_chunk
        return tuple(
            chain(
                chain.from_iterable(map(stem_chunk, title.split())),
                (_BOUNDARY,),
                chain.from_iterable(map(stem_chunk, text.split())),
            )
        )

    def document_terms(self, doc: MatchDocument) -> DocumentTerms:
        """Reduce an article for matching (call once per article)."""
        tokens = doc.tokens if doc.tokens is not None else self.tokens(doc.title, doc.text)
        stems = frozenset(tokens).difference((_BOUNDARY,))
        host = doc.source_host.strip().casefold()
        if "://" in host:
            try:
                host = urlsplit(host).hostname or ""
            except ValueError:
                host = ""
        host = host.split(":", 1)[0].strip(".")
        labels = host.split(".") if host else []
        words = self.source_words(doc.source_name)
        keys = {host_key(".".join(labels[i:])) for i in range(len(labels))}
        keys.update(name_key(word) for word in words)
        source_keys = frozenset(keys)
        return DocumentTerms(stems, tokens, source_keys, words, stems | source_keys)

    def matches(self, query: Query, terms: DocumentTerms) -> bool:
        """True when the article ``terms`` came from matches ``query``."""
        return self._compile_cached(query)(terms)

    def compile(self, query: Query) -> Predicate:
        """A fast predicate equivalent to ``lambda terms: self.matches(query, terms)``
        (not cached: for callers that keep it, like the subscription index)."""
        return self._compile_node(query.root)

    def _compile_query(self, query: Query) -> Predicate:
        return self._compile_node(query.root)

    def _compile_node(self, node: Node) -> Predicate:
        """The predicate of one AST node."""
        if isinstance(node, Term):
            stem = self.stem(node.word)
            return lambda terms: stem in terms.stems
        if isinstance(node, Phrase):
            return self._phrase_predicate(node)
        if isinstance(node, Source):
            return self._source_predicate(node)
        if isinstance(node, Not):
            inner = self._compile_node(node.child)
            return lambda terms: not inner(terms)
        if isinstance(node, And):
            return self._and_predicate(node)
        return self._or_predicate(node)

    def _phrase_predicate(self, node: Phrase) -> Predicate:
        run = tuple(self.stem(word) for word in node.words)
        needed = frozenset(run)

        def phrase(terms: DocumentTerms) -> bool:
            return needed <= terms.stems and _has_run(terms.tokens, run)

        return phrase

    def _source_predicate(self, node: Source) -> Predicate:
        key = host_key(node.value)
        words = self.source_words(node.value)
        if len(words) == 1:
            keys = frozenset({key, name_key(words[0])})
            return lambda terms: not keys.isdisjoint(terms.source_keys)
        return lambda terms: key in terms.source_keys or _has_run(terms.source_words, words)

    def _and_predicate(self, node: And) -> Predicate:
        required = frozenset(
            self.stem(child.word) for child in node.children if isinstance(child, Term)
        )
        forbidden = frozenset(
            self.stem(child.child.word)
            for child in node.children
            if isinstance(child, Not) and isinstance(child.child, Term)
        )
        others = tuple(
            self._compile_node(child)
            for child in node.children
            if not isinstance(child, Term)
            and not (isinstance(child, Not) and isinstance(child.child, Term))
        )

        if not others:
            if not forbidden:
                return lambda terms: required <= terms.stems
            return lambda terms: required <= terms.stems and forbidden.isdisjoint(terms.stems)
        if len(others) == 1:
            (other,) = others
            return lambda terms: (
                required <= terms.stems and forbidden.isdisjoint(terms.stems) and other(terms)
            )

        def conjunction(terms: DocumentTerms) -> bool:
            stems = terms.stems
            if not (required <= stems and forbidden.isdisjoint(stems)):
                return False
            return all(predicate(terms) for predicate in others)

        return conjunction

    def _or_predicate(self, node: Or) -> Predicate:
        any_of = frozenset(
            self.stem(child.word) for child in node.children if isinstance(child, Term)
        )
        others = tuple(
            self._compile_node(child) for child in node.children if not isinstance(child, Term)
        )

        if not others:
            return lambda terms: not any_of.isdisjoint(terms.stems)

        def disjunction(terms: DocumentTerms) -> bool:
            if not any_of.isdisjoint(terms.stems):
                return True
            return any(predicate(terms) for predicate in others)

        return disjunction
