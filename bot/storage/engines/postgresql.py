"""PostgreSQL's corner of the store (psycopg 3): lock timeouts as "busy", ``ON CONFLICT DO
NOTHING``, claims with ``FOR UPDATE SKIP LOCKED``, a weighted ``tsvector`` search, and
session-level advisory locks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    Text,
    bindparam,
    column,
    event,
    text,
)
from sqlalchemy import create_engine as sqlalchemy_engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import Insert

from bot.core.errors import StorageBusyError
from bot.core.models import SNIPPET_END, SNIPPET_START
from bot.core.query import And, Query, Term
from bot.core.query import Phrase as PhraseNode
from bot.storage.engines import RankedRow, SearchQuery, compile_query
from bot.storage.schema import UTCDateTime, articles

__all__ = ["PHRASE_CHECKS", "TEXT_SEARCH_CONFIG", "AdvisoryLock", "PostgresDialect", "advisory_key"]

TEXT_SEARCH_CONFIG = "english"
"""The text search configuration of ``articles.search`` (stemming, English stop words);
migration 0007 builds the column with the same one."""
_WEIGHTS = "{0.1, 0.1, 0.1, 1.0}"
"""``ts_rank`` weights of D, C, B (text) and A (title). ``ts_rank`` adds a word's repeats with
falling weights (1, 1/4, 1/9, ...), so repeats count but can never add up to more than 1.64
times their best weight: a title match always outranks any number of text matches."""
_HEADLINE = (
    f'StartSel="{SNIPPET_START}", StopSel="{SNIPPET_END}", '
    'MaxWords=24, MinWords=12, MaxFragments=1, FragmentDelimiter=" … "'
)
_ARTICLE_COLUMNS = ", ".join(f"articles.{column.name}" for column in articles.c)
"""The columns of :data:`~bot.storage.schema.articles` (not the ``search`` vector)."""
_NEWEST_PK = text("SELECT max(pk) FROM articles")
_NO_INDEX_WALK = text("SET LOCAL enable_indexscan = off")
_INDEX_WALK = text("SET LOCAL enable_indexscan TO DEFAULT")
_FIRST_SPAN = 4
"""A search first looks for its candidates among the newest ``candidates`` times this many
articles (an index range on ``pk`` the planner intersects with the full-text index), then
further back, as far as the matches found so far say it takes (eight times further when none
were), until it has all its candidates or has looked everywhere: a common word's newest
matches are found without visiting its older ones."""
_SPAN_GROWTH = 8


def _score(vector: str) -> str:
    """A candidate's score, computed as it is found (the sorts then carry numbers, not
    vectors)."""
    return f"ts_rank('{_WEIGHTS}', {vector}, q.query) AS score"


PHRASE_CHECKS = 1000
"""How many of the newest articles holding all the words of a query's phrases are checked for
the phrases themselves."""
_BUSY_STATES = {"55P03", "40P01", "40001"}
"""Lock not available (``lock_timeout``), deadlock, serialisation failure: try again."""


def advisory_key(name: str) -> int:
    """The 64-bit advisory lock key of a lock name (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


_SINGLE_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _CompiledQuery:
    """A query as ``tsquery`` SQL: ``exact`` is the query itself; ``words`` requires the
    words of its phrases without their order (phrases as ``plainto_tsquery``, no ``NOT``),
    which the GIN index answers without reading any article; ``values`` are the parameters
    of both. ``has_phrases``: the two differ (a phrase must be checked in the article)."""

    exact: str
    words: str
    values: dict[str, str]
    has_phrases: bool


def _compile(query: SearchQuery | Query) -> _CompiledQuery | None:
    """Words and phrases as ``phraseto_tsquery`` (stop words drop out), ``AND`` as ``&&``,
    ``OR`` as ``||``, ``NOT`` as ``!!``; None when the index cannot narrow the query (see
    :func:`compile_query` for ``source:``)."""
    values: dict[str, str] = {}
    phrases = False

    def parameter(words: tuple[str, ...]) -> str | None:
        nonlocal phrases
        text = " ".join(words).strip()
        if not text:
            return None
        phrases = phrases or not _SINGLE_WORD.fullmatch(text)
        name = f"phrase{len(values)}"
        values[name] = text
        return name

    def build(function: str, keep_not: bool) -> str | None:
        def words(found: tuple[str, ...]) -> str | None:
            name = parameter(found)
            return None if name is None else f"{function}('{TEXT_SEARCH_CONFIG}', :{name})"

        def all_of(required: list[str], excluded: list[str]) -> str:
            kept = [f"!!{term}" for term in excluded] if keep_not else []
            return "(" + " && ".join(required + kept) + ")"

        parsed = query if isinstance(query, Query) else _as_query(query)
        return compile_query(
            parsed, words=words, all_of=all_of, any_of=lambda sides: "(" + " || ".join(sides) + ")"
        )

    exact = build("phraseto_tsquery", keep_not=True)
    if exact is None:
        return None
    exact_values = dict(values)
    values.clear()
    loose = build("plainto_tsquery", keep_not=False) or exact
    return _CompiledQuery(exact, loose, exact_values, phrases)


def _as_query(query: SearchQuery) -> Query:
    """A plain search's phrases, all required, as a parsed query."""
    phrases = [Term(words[0]) if len(words) == 1 else PhraseNode(words) for words in query.phrases]
    return Query(And(tuple(phrases)))


class AdvisoryLock:
    """A session-level advisory lock held on a connection of its own: PostgreSQL releases it
    when :meth:`release` unlocks it, or when the connection ends (the process died, or the
    network or server failed; :meth:`held` then says so)."""

    def __init__(self, name: str, connection: Connection) -> None:
        self.name = name
        self._connection: Connection | None = connection

    def held(self) -> bool:
        """Asks the server whether this connection still holds the lock."""
        if self._connection is None:
            return False
        key = advisory_key(self.name)
        try:
            held = self._connection.execute(
                _HOLDS, {"classid": (key >> 32) & 0xFFFFFFFF, "objid": key & 0xFFFFFFFF}
            ).scalar()
            self._connection.commit()
        except SQLAlchemyError:
            self._close()
            return False
        return bool(held)

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(_UNLOCK, {"key": advisory_key(self.name)})
            self._connection.commit()
        except SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        self._close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except SQLAlchemyError:
                connection.invalidate()

    def __enter__(self) -> AdvisoryLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_HOLDS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid = :classid AND objid = :objid AND objsubid = 1)"
)
"""A bigint key shows in ``pg_locks`` as its high half (classid) and low half (objid)."""


class PostgresDialect:
    """PostgreSQL 13 or newer through psycopg 3."""

    name = "postgresql"

    def create_engine(self, url: URL, *, busy_timeout: float) -> Engine:
        """A waiting row or table lock gives up after ``busy_timeout`` seconds and raises
        :class:`StorageBusyError`, as SQLite's busy timeout does. ``postgresql://`` means
        psycopg 3."""
        engine = sqlalchemy_engine(
            url.set(drivername="postgresql+psycopg"),
            pool_pre_ping=True,
            connect_args={"options": f"-c lock_timeout={int(busy_timeout * 1000)}"},
        )
        event.listen(engine, "handle_error", _raise_busy)
        return engine

    def insert_ignoring(self, table: Table) -> Insert:
        return postgresql.insert(table).on_conflict_do_nothing()

    def lock_claimed(self, query: Select[Any]) -> Select[Any]:
        """``FOR UPDATE SKIP LOCKED``: concurrent claims take other rows instead of waiting."""
        return query.with_for_update(skip_locked=True)

    def search(
        self,
        connection: Connection,
        query: SearchQuery | Query,
        *,
        since: datetime | None,
        limit: int,
        candidates: int,
    ) -> list[RankedRow]:
        """``ts_rank`` on ``search_rank`` (the title, weight A, and the text's opening, B)
        over the newest matches of the GIN index on ``search``. A phrase is checked in the
        newest :data:`PHRASE_CHECKS` articles holding all its words (the index knows words,
        not their order, so each check reads the article's whole vector)."""
        compiled = _compile(query)
        if compiled is None:
            return []
        window = "" if since is None else "AND articles.published_at >= :since "
        wanted = PHRASE_CHECKS if compiled.has_phrases else candidates
        if compiled.has_phrases:
            newest = (
                "checked AS (SELECT articles.pk, articles.search_rank, articles.search "
                "FROM articles, q WHERE articles.search @@ q.words AND articles.pk > :floor "
                f"{window}ORDER BY articles.pk DESC LIMIT :checks), "
                f"newest AS (SELECT checked.pk, {_score('checked.search_rank')} "
                "FROM checked, q "
                "WHERE checked.search @@ q.query ORDER BY checked.pk DESC LIMIT :candidates)"
            )
            counted = "checked"
        else:
            newest = (
                f"newest AS (SELECT articles.pk, {_score('articles.search_rank')} "
                f"FROM articles, q WHERE articles.search @@ q.query AND articles.pk > :floor "
                f"{window}ORDER BY articles.pk DESC LIMIT :candidates)"
            )
            counted = "newest"
        ranked_sql = text(
            f"WITH q AS MATERIALIZED (SELECT {compiled.exact} AS query, "
            f"{compiled.words} AS words), "
            f"{newest} "
            "SELECT counted.found, ranked.pk, ranked.score "
            f"FROM (SELECT count(*) AS found FROM {counted}) AS counted "
            "LEFT JOIN LATERAL (SELECT newest.pk, newest.score FROM newest "
            "ORDER BY newest.score DESC, newest.pk DESC LIMIT :limit) AS ranked ON true"
        )
        if since is not None:
            ranked_sql = ranked_sql.bindparams(bindparam("since", since, type_=UTCDateTime()))
        values = {**compiled.values, "candidates": candidates, "checks": PHRASE_CHECKS}
        newest_pk = connection.execute(_NEWEST_PK).scalar() or 0
        span = wanted * _FIRST_SPAN
        # A walk down the primary key, testing each article's vector (read back from TOAST),
        # is what the planner picks when it expects the match often; the GIN index ANDed with
        # the pk range reads only the matches, so it is always the cheaper plan here.
        connection.execute(_NO_INDEX_WALK)
        while True:
            floor = max(newest_pk - span, 0)
            rows = connection.execute(ranked_sql, {**values, "limit": limit, "floor": floor}).all()
            found = rows[0].found
            if floor == 0 or found >= wanted:
                break
            # as far back again as the matches found so far say it takes, with a margin
            span = int(span * max(1.5, wanted * 1.25 / found) if found else span * _SPAN_GROWTH)
        connection.execute(_INDEX_WALK)
        ranked = [(row.pk, row.score) for row in rows if row.pk is not None]
        if not ranked:
            return []
        shown = (
            text(
                f"SELECT {_ARTICLE_COLUMNS}, ts_headline('{TEXT_SEARCH_CONFIG}', articles.text, "
                f"{compiled.exact}, :headline) AS snippet FROM articles WHERE articles.pk IN :pks"
            )
            .bindparams(bindparam("pks", [pk for pk, _ in ranked], expanding=True))
            .columns(*articles.c, column("snippet", Text))
        )
        rows = {
            row.pk: row._mapping
            for row in connection.execute(shown, {**compiled.values, "headline": _HEADLINE})
        }
        return [
            RankedRow(rows[pk], float(score), rows[pk]["snippet"] or "")
            for pk, score in ranked
            if pk in rows
        ]

    def lock_for_migration(self, connection: Connection) -> None:
        """A transaction-level advisory lock: the next process migrates after this one."""
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": advisory_key("newsbot:migrations")})  # fmt: skip

    def database_bytes(self, connection: Connection) -> int:
        """``pg_database_size`` of the current database."""
        size = connection.exec_driver_sql("SELECT pg_database_size(current_database())")
        return int(size.scalar_one())

    def try_lock(self, engine: Engine, name: str) -> AdvisoryLock | None:
        """``pg_try_advisory_lock`` on a connection taken from the pool for as long as the
        lock is held; None (at once) when another session holds it."""
        connection = engine.connect()
        try:
            granted = connection.execute(_TRY_LOCK, {"key": advisory_key(name)}).scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not granted:
            connection.close()
            return None
        return AdvisoryLock(name, connection)


def _raise_busy(context: Any) -> None:
    """Lock timeouts, deadlocks and serialisation failures as :class:`StorageBusyError`."""
    state = getattr(context.original_exception, "sqlstate", None)
    if state in _BUSY_STATES:
        raise StorageBusyError(
            "the database is busy (another writer holds a lock); try again in a moment"
        ) from context.sqlalchemy_exception
