"""What differs between the SQL engines the store runs on, behind one small interface.

The store's parts (:mod:`bot.storage.feeds`, :mod:`bot.storage.articles`, ...) are written
once in SQLAlchemy Core; whatever cannot be (connecting, insert-or-ignore, row locks for
claims, full-text search, named locks) is a method of a :class:`Dialect`, one module per
engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, RowMapping, Select, Table
from sqlalchemy.engine import URL
from sqlalchemy.sql.dml import Insert

from bot.core.errors import StorageError
from bot.core.ports import HeldLock
from bot.core.query import And, Node, Not, Or, Query, Term
from bot.core.query import Phrase as PhraseNode

__all__ = [
    "Dialect",
    "Phrase",
    "RankedRow",
    "SearchQuery",
    "compile_query",
    "dialect_for",
    "parse_search",
]

Phrase = tuple[str, ...]
"""Words that must appear together, in this order (a single word is a phrase of one)."""

_QUERY_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+")
_MAX_QUERY_TERMS = 16


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: every phrase must match. Engines compile it to their own syntax, so
    user text never reaches a full-text query language."""

    phrases: tuple[Phrase, ...]


def parse_search(text: str) -> SearchQuery:
    """Words and "quoted phrases"; punctuation separates words, at most 16 terms."""
    phrases = []
    for quoted, word in _QUERY_TOKEN.findall(text):
        words = tuple(_WORD.findall(quoted or word))
        if words:
            phrases.append(words)
    return SearchQuery(tuple(phrases[:_MAX_QUERY_TERMS]))


@dataclass(frozen=True, slots=True)
class RankedRow:
    """A search match: the article's row, its score (higher is better) and a snippet."""

    row: RowMapping
    score: float
    snippet: str


class Dialect(Protocol):
    """One database engine's corner of the store."""

    name: str

    def create_engine(self, url: URL, *, busy_timeout: float) -> Engine:
        """A SQLAlchemy engine for ``url``, configured for this database."""
        ...

    def insert_ignoring(self, table: Table) -> Insert:
        """``INSERT`` that skips rows whose unique keys exist (add ``RETURNING`` to see
        which were added)."""
        ...

    def lock_claimed(self, query: Select[Any]) -> Select[Any]:
        """The claim query, taking its rows for this transaction so that concurrent claims
        skip them."""
        ...

    def search(
        self,
        connection: Connection,
        query: SearchQuery | Query,
        *,
        since: datetime | None,
        limit: int,
        candidates: int,
    ) -> list[RankedRow]:
        """The best matches (of every phrase of a :class:`SearchQuery`, or of a parsed
        :class:`Query` with its OR, NOT and phrases; its ``source:`` filters are the caller's
        to check) among the newest ``candidates`` matches (published since
        ``since``), best first; title matches rank above text matches, equal scores go to
        the newer article."""
        ...

    def try_lock(self, engine: Engine, name: str) -> HeldLock | None:
        """Take the lock called ``name`` unless another holder has it."""
        ...

    def database_bytes(self, connection: Connection) -> int:
        """The size of the database on disk."""
        ...


def compile_query(
    query: Query,
    *,
    words: Callable[[tuple[str, ...]], str | None],
    all_of: Callable[[list[str], list[str]], str],
    any_of: Callable[[list[str]], str],
) -> str | None:
    """A parsed query in an engine's full-text syntax: ``words`` makes a word or phrase,
    ``all_of(required, excluded)`` an AND with its NOTs, ``any_of`` an OR. A ``source:``
    filter is not in the index: it matches anything here, and the caller checks it on the
    hits. None when the index cannot narrow the query (only ``source:`` filters)."""

    def node(item: Node) -> str | None:
        if isinstance(item, Term):
            return words((item.word,))
        if isinstance(item, PhraseNode):
            return words(item.words)
        if isinstance(item, Or):
            sides = [node(child) for child in item.children]
            return None if None in sides else any_of([side for side in sides if side])
        if isinstance(item, And):
            required = [e for c in item.children if not isinstance(c, Not) and (e := node(c))]
            excluded = [e for c in item.children if isinstance(c, Not) and (e := node(c.child))]
            return all_of(required, excluded) if required else None
        return None  # a source, or a lone NOT (which the parser refuses)

    return node(query.root)


def dialect_for(url: URL) -> Dialect:
    """The dialect of a parsed database URL, or :class:`StorageError`."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        from bot.storage.engines.sqlite import SqliteDialect

        return SqliteDialect()
    if url.drivername in ("postgresql", "postgresql+psycopg"):
        from bot.storage.engines.postgresql import PostgresDialect

        return PostgresDialect()
    raise StorageError(
        f"database {url.drivername!r} is not supported; use sqlite:///path or "
        "postgresql+psycopg://user:password@host:5432/database"
    )
