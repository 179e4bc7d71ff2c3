"""SQLite's corner of the store: WAL and busy handling, ``ON CONFLICT DO NOTHING``, FTS5."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, Text, bindparam, column, event, text
from sqlalchemy import create_engine as sqlalchemy_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL
from sqlalchemy.sql.dml import Insert

from bot.core.errors import StorageBusyError
from bot.core.models import SNIPPET_END, SNIPPET_START
from bot.core.query import Query
from bot.storage.engines import RankedRow, SearchQuery, compile_query
from bot.storage.schema import UTCDateTime, articles

__all__ = ["ProcessLock", "SqliteDialect", "fts5_expression", "fts_match_expression"]


def fts_match_expression(query: SearchQuery) -> str:
    """A parsed query as an FTS5 expression matching all its phrases (each one quoted, so
    no word is ever an FTS5 operator)."""
    return " ".join('"' + " ".join(phrase) + '"' for phrase in query.phrases)


_NEWEST_RANKED = (
    "SELECT rowid AS pk, bm25(articles_fts, 10.0, 1.0) AS score FROM articles_fts "
    "WHERE articles_fts MATCH :match ORDER BY rowid DESC LIMIT :candidates"
)
"""The newest matches with their bm25 scores: the match is evaluated once, newest first, and
stops after the candidates."""
_RANK = text(f"SELECT pk, score FROM ({_NEWEST_RANKED}) ORDER BY score, pk DESC LIMIT :limit")
"""Equal scores go to the newer article."""
_NEWEST_MATCHES = text(
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :match "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
)
"""The rowid of the oldest match a search since a time ranks (none: every match is ranked)."""
_RANK_SINCE = text(
    "SELECT articles_fts.rowid AS pk, bm25(articles_fts, 10.0, 1.0) AS score "
    "FROM articles_fts JOIN articles ON articles.pk = articles_fts.rowid "
    "WHERE articles_fts MATCH :match AND articles_fts.rowid >= :floor "
    "AND articles.published_at >= :since ORDER BY score, pk DESC LIMIT :limit"
)
"""With a time limit, the newest matches are bounded first and the rest ranked with the
articles' dates at hand (a third faster than joining the ranked matches to their articles).
Equal scores go to the newer article."""
_SHOWN = text(
    "SELECT articles.*, snippet(articles_fts, 1, :start, :end, '…', 24) AS snippet "
    "FROM articles_fts JOIN articles ON articles.pk = articles_fts.rowid "
    "WHERE articles_fts MATCH :match AND articles_fts.rowid IN :pks"
).columns(*articles.c, column("snippet", Text))
"""The hits shown, with their snippets: only these are read from ``articles``."""


class ProcessLock:
    """A named lock among the holders of one store: SQLite serves one process, so there is
    no other process to exclude, only other jobs of this one."""

    def __init__(self, name: str, held_names: set[str], guard: threading.Lock) -> None:
        self.name = name
        self._held_names = held_names
        self._guard = guard
        self._held = True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        with self._guard:
            if self._held:
                self._held = False
                self._held_names.discard(self.name)

    def __enter__(self) -> ProcessLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class SqliteDialect:
    """SQLite (WAL, FTS5 with bm25 weighting the title 10 to the text's 1)."""

    name = "sqlite"

    def __init__(self) -> None:
        self._held_names: set[str] = set()
        self._guard = threading.Lock()

    def create_engine(self, url: URL, *, busy_timeout: float) -> Engine:
        """Creates the file's folder; a write waits ``busy_timeout`` seconds for another
        writer's lock, then raises :class:`StorageBusyError`."""
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlalchemy_engine(url, connect_args={"timeout": busy_timeout})
        event.listen(engine, "connect", _configure_connection)
        event.listen(engine, "handle_error", _raise_busy)
        return engine

    def insert_ignoring(self, table: Table) -> Insert:
        return sqlite.insert(table).on_conflict_do_nothing()

    def lock_claimed(self, query: Select[Any]) -> Select[Any]:
        """Unchanged: SQLite has one writer at a time, so the claim's transaction is the lock."""
        return query

    def search(
        self,
        connection: Connection,
        query: SearchQuery | Query,
        *,
        since: datetime | None,
        limit: int,
        candidates: int,
    ) -> list[RankedRow]:
        """bm25 ranked in the full-text index alone; only the hits shown read ``articles``."""
        if isinstance(query, SearchQuery):
            match = fts_match_expression(query)
        else:
            match = fts5_expression(query)
        if not match:
            return []
        if since is None:
            ranked = connection.execute(
                _RANK, {"match": match, "candidates": candidates, "limit": limit}
            ).all()
        else:
            floor = connection.execute(
                _NEWEST_MATCHES, {"match": match, "skip": candidates - 1}
            ).scalar()
            ranked = connection.execute(
                _RANK_SINCE.bindparams(bindparam("since", since, type_=UTCDateTime())),
                {"match": match, "floor": floor or 0, "limit": limit},
            ).all()
        if not ranked:
            return []
        shown = _SHOWN.bindparams(
            bindparam("match", match),
            bindparam("start", SNIPPET_START),
            bindparam("end", SNIPPET_END),
            bindparam("pks", [pk for pk, _ in ranked], expanding=True),
        )
        rows = {row.pk: row._mapping for row in connection.execute(shown)}
        return [
            RankedRow(rows[pk], -float(score), rows[pk]["snippet"] or "")
            for pk, score in ranked
            if pk in rows
        ]

    def try_lock(self, engine: Engine, name: str) -> ProcessLock | None:
        """Granted unless this store already holds ``name`` (one process per SQLite file)."""
        with self._guard:
            if name in self._held_names:
                return None
            self._held_names.add(name)
        return ProcessLock(name, self._held_names, self._guard)

    def database_bytes(self, connection: Connection) -> int:
        """Pages in use times the page size."""
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(pages) * int(page_size)


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _raise_busy(context: Any) -> None:
    """SQLite's "database is locked" (after the busy timeout) as :class:`StorageBusyError`."""
    original = context.original_exception
    name = getattr(original, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(original):
        raise StorageBusyError(
            "the database is busy (another writer holds its lock); try again in a moment"
        ) from context.sqlalchemy_exception


_WORD = re.compile(r"\w+")


def fts5_expression(query: Query) -> str | None:
    """A parsed query as an FTS5 expression matching at least every article it matches:
    words and phrases quoted, ``AND``, ``OR`` and ``NOT`` as FTS5 has them (see
    :func:`compile_query` for ``source:``)."""
    return compile_query(
        query,
        words=_quoted,
        all_of=lambda required, excluded: (
            "(" + " AND ".join(required) + ")" + "".join(f" NOT {term}" for term in excluded)
        ),
        any_of=lambda sides: "(" + " OR ".join(sides) + ")",
    )


def _quoted(words: tuple[str, ...]) -> str | None:
    found = [word for part in words for word in _WORD.findall(part)]
    return '"' + " ".join(found) + '"' if found else None
