"""Processes that start together on a new PostgreSQL database migrate it one at a time."""

from __future__ import annotations

import threading

import psycopg
from sqlalchemy.engine import make_url

from bot.storage.sql import SqlStore
from tests.support.postgres import TestPostgres


def test_simultaneous_first_opens_of_an_empty_database_all_succeed(
    test_postgres: TestPostgres,
) -> None:
    admin = make_url(test_postgres.url_of("postgres")).set(drivername="postgresql")
    name = f"newsbot_test_race_{threading.get_ident()}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = test_postgres.url_of(name)
    failures: list[Exception] = []

    def open_store() -> None:
        try:
            store = SqlStore.open(url)
            store.add_feed(f"https://news.example/{threading.get_ident()}", "Example")
            store.close()
        except Exception as error:  # collected, asserted below
            failures.append(error)

    try:
        openers = [threading.Thread(target=open_store) for _ in range(3)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join()
        assert failures == []
        store = SqlStore.open(url)
        assert len(store.list_feeds()) == 3
        store.close()
    finally:
        test_postgres.drop_database(url)
