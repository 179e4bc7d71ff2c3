"""PostgreSQL's corner of the store (psycopg 3): lock timeouts as "busy", ``ON CONFLICT DO
NOTHING``, claims with ``FOR UPDATE SKIP LOCKED``, a weighted ``tsvector`` search, and
session-level advisory locks."""

from __future__ import annotations

import hashlib
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
from bot.core.query import Query
from bot.storage.engines import RankedRow, SearchQuery, compile_query
from bot.storage.schema import UTCDateTime, articles

__all__ = ["TEXT_SEARCH_CONFIG", "AdvisoryLock", "PostgresDialect", "advisory_key"]

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
_BUSY_STATES = {"55P03", "40P01", "40001"}
"""Lock not available (``lock_timeout``), deadlock, serialisation failure: try again."""


def advisory_key(name: str) -> int:
    """The 64-bit advisory lock key of a lock name (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _tsquery(query: SearchQuery) -> tuple[str, dict[str, str]]:
    """The query as ``tsquery`` SQL with its parameters: every phrase must match, words of a
    phrase adjacent (``phraseto_tsquery``); stop words drop out."""
    parts = [
        f"phraseto_tsquery('{TEXT_SEARCH_CONFIG}', :phrase{index})"
        for index in range(len(query.phrases))
    ]
    values = {f"phrase{index}": " ".join(phrase) for index, phrase in enumerate(query.phrases)}
    return " && ".join(parts), values


def _parsed_tsquery(query: Query) -> tuple[str, dict[str, str]] | None:
    """A parsed query as ``tsquery`` SQL with its parameters: words and phrases as
    ``phraseto_tsquery``, ``AND`` as ``&&``, ``OR`` as ``||``, ``NOT`` as ``!!`` (see
    :func:`compile_query` for ``source:``)."""
    values: dict[str, str] = {}

    def phrase(words: tuple[str, ...]) -> str | None:
        text = " ".join(words).strip()
        if not text:
            return None
        name = f"phrase{len(values)}"
        values[name] = text
        return f"phraseto_tsquery('{TEXT_SEARCH_CONFIG}', :{name})"

    built = compile_query(
        query,
        words=phrase,
        all_of=lambda required, excluded: (
            "(" + " && ".join(required + [f"!!{term}" for term in excluded]) + ")"
        ),
        any_of=lambda sides: "(" + " || ".join(sides) + ")",
    )
    return None if built is None else (built, values)


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
        """``ts_rank`` (title weight A, text B) over the newest matches of the GIN index."""
        if isinstance(query, SearchQuery):
            if not query.phrases:
                return []
            tsquery, values = _tsquery(query)
        else:
            built = _parsed_tsquery(query)
            if built is None:
                return []
            tsquery, values = built
        window = "" if since is None else "WHERE newest.published_at >= :since"
        ranked_sql = text(
            f"WITH q AS (SELECT {tsquery} AS query), "
            "newest AS (SELECT articles.pk, articles.search, articles.published_at "
            "FROM articles, q WHERE articles.search @@ q.query "
            "ORDER BY articles.pk DESC LIMIT :candidates) "
            "SELECT newest.pk, "
            f"ts_rank('{_WEIGHTS}', newest.search, q.query) AS score "
            f"FROM newest, q {window} ORDER BY score DESC, newest.pk DESC LIMIT :limit"
        )
        if since is not None:
            ranked_sql = ranked_sql.bindparams(bindparam("since", since, type_=UTCDateTime()))
        ranked = connection.execute(
            ranked_sql, {**values, "candidates": candidates, "limit": limit}
        ).all()
        if not ranked:
            return []
        shown = (
            text(
                f"SELECT {_ARTICLE_COLUMNS}, ts_headline('{TEXT_SEARCH_CONFIG}', articles.text, "
                f"{tsquery}, :headline) AS snippet FROM articles WHERE articles.pk IN :pks"
            )
            .bindparams(bindparam("pks", [pk for pk, _ in ranked], expanding=True))
            .columns(*articles.c, column("snippet", Text))
        )
        rows = {
            row.pk: row._mapping
            for row in connection.execute(shown, {**values, "headline": _HEADLINE})
        }
        return [
            RankedRow(rows[pk], float(score), rows[pk]["snippet"] or "")
            for pk, score in ranked
            if pk in rows
        ]

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
