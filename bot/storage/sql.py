"""The SQL store: one part per aggregate over one engine corner, migrated by Alembic on open.

Parts (one module each, in the manner of Miniflux's ``internal/storage``):
:mod:`~bot.storage.feeds` (feeds and polling), :mod:`~bot.storage.articles` (articles and
search), :mod:`~bot.storage.outbox` (deliveries), :mod:`~bot.storage.subscriptions`
(subscriptions and schedules), :mod:`~bot.storage.locks` (named locks),
:mod:`~bot.storage.follows` (messages that follow a story). What differs between database
engines lives in :mod:`bot.storage.engines`. A new aggregate is one more
:class:`~bot.storage.base.StorePart` module added to :class:`SqlStore`'s bases.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.core.errors import StorageError
from bot.storage.articles import ArticleStore
from bot.storage.engines import dialect_for
from bot.storage.feeds import FeedStore
from bot.storage.follows import StoryFollowsMixin
from bot.storage.locks import LockStore
from bot.storage.outbox import OutboxStore
from bot.storage.subscriptions import ScheduleStore, SubscriptionStore

__all__ = ["MIGRATIONS", "SqlStore"]

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script folder."""


class SqlStore(
    FeedStore,
    ArticleStore,
    OutboxStore,
    SubscriptionStore,
    ScheduleStore,
    LockStore,
    StoryFollowsMixin,
):
    """:class:`bot.core.ports.Store` on SQLAlchemy Core. Use :meth:`open`."""

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = 30.0) -> SqlStore:
        """Connect (creating a SQLite file's folder) and migrate the schema to the newest.

        A write waits up to ``busy_timeout`` seconds for another writer's lock; then it raises
        :class:`StorageBusyError`, which callers treat as "try again later"."""
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise StorageError(f"invalid database URL {url!r}: {error}") from error
        dialect = dialect_for(parsed)
        store = cls(dialect.create_engine(parsed, busy_timeout=busy_timeout), dialect)
        store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self._engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as error:
            raise StorageError(f"cannot open the database: {error}") from error

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    def ping(self) -> None:
        """One trivial query; raises SQLAlchemy's error when the database does not answer."""
        with self._engine.connect() as connection:
            connection.execute(select(1)).scalar_one()

    def database_bytes(self) -> int:
        """The database's size, as its engine counts it."""
        with self._engine.connect() as connection:
            return self._dialect.database_bytes(connection)
