"""What every part of the SQL store shares: the engine, its dialect corner, row mapping."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, RowMapping, Table, select, update

from bot.core.models import Article, Delivery, Feed, Schedule, Subscription
from bot.storage.engines import Dialect

__all__ = [
    "StorePart",
    "article_from_row",
    "delivery_from_row",
    "feed_from_row",
    "schedule_from_row",
    "subscription_from_row",
    "utc_now",
]

_Model = TypeVar("_Model")


class StorePart:
    """Base of the store's per-aggregate parts: :class:`bot.storage.sql.SqlStore` composes
    them, and each reaches the database through ``_engine`` and what differs between
    database engines through ``_dialect``."""

    def __init__(self, engine: Engine, dialect: Dialect) -> None:
        self._engine = engine
        self._dialect = dialect

    def _claim(
        self,
        table: Table,
        due: ColumnElement[bool],
        order: Sequence[ColumnElement[Any]],
        limit: int,
        values: Mapping[str, Any],
        model: Callable[[RowMapping], _Model],
    ) -> list[_Model]:
        """Claim up to ``limit`` rows that are ``due``, in ``order``: in one transaction,
        select them (locking them, see :meth:`Dialect.lock_claimed`), set ``values`` (the
        lease, which must make them not due) on those still due, and read those back.

        The update checks ``due`` again because where the select takes no row locks (SQLite
        reads before its transaction takes the write lock) a concurrent claim may lease some
        of the rows in between; the update holds the write lock, so its check and its lease
        are one step, and a row is never claimed twice."""
        query = select(table.c.id).where(due).order_by(*order).limit(limit)
        with self._engine.begin() as connection:
            ids = list(connection.execute(self._dialect.lock_claimed(query)).scalars())
            if not ids:
                return []
            lease = update(table).where(table.c.id.in_(ids), due).values(**values)
            taken = list(connection.execute(lease.returning(table.c.id)).scalars())
            if not taken:
                return []
            rows = connection.execute(select(table).where(table.c.id.in_(taken)))
            claimed = {row.id: model(row._mapping) for row in rows}
        return [claimed[i] for i in ids if i in claimed]


def _from_row(model: type[_Model], row: Mapping[str, Any], **derived: Any) -> _Model:
    """A model from the row's columns of the same names; ``derived`` gives the others."""
    names = (field.name for field in dataclasses.fields(model))  # type: ignore[arg-type]
    return model(**{name: row[name] for name in names if name not in derived}, **derived)


def delivery_from_row(row: RowMapping) -> Delivery:
    return _from_row(Delivery, row)


def feed_from_row(row: RowMapping) -> Feed:
    return _from_row(Feed, row, guild_id=row["guild_id"] or None)


def subscription_from_row(row: RowMapping) -> Subscription:
    return _from_row(Subscription, row)


def schedule_from_row(row: RowMapping) -> Schedule:
    return _from_row(Schedule, row, days=tuple(int(day) for day in row["days"]))


def article_from_row(row: Mapping[str, Any]) -> Article:
    summary = row["summary"]
    return _from_row(Article, row, summary=tuple(json.loads(summary)) if summary else None)


def utc_now() -> datetime:
    return datetime.now(UTC)
