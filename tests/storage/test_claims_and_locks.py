"""What several processes sharing one database rely on, on both engines: claims that never
overlap, claims a restarted owner hands back, named locks with one holder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import NewDelivery
from bot.core.ports import PollRecord
from bot.storage.sql import SqlStore
from tests.support.postgres import TestPostgres

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=10)


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database, as two processes would open it."""
    first, second = SqlStore.open(database_url), SqlStore.open(database_url)
    yield first, second
    first.close()
    second.close()


def alert(number: int) -> NewDelivery:
    return NewDelivery(
        dedupe_key=f"alert:{number}",
        kind="alert",
        guild_id=1,
        recipient_type="user",
        recipient_id=number,
    )


def test_concurrent_claims_take_every_due_row_once(stores: tuple[SqlStore, SqlStore]) -> None:
    first, second = stores
    feed_ids = {first.add_feed(f"https://{n}.example/rss", None).id for n in range(40)}
    first.enqueue([alert(n) for n in range(40)], NOW)

    def drain(store: SqlStore) -> tuple[list[int], list[int]]:
        feeds: list[int] = []
        deliveries: list[int] = []
        while True:
            claimed = store.claim_due_feeds(NOW, 3, LEASE, owner=str(id(store)))
            sent = store.claim_deliveries(NOW, 3, LEASE, owner=str(id(store)))
            if not claimed and not sent:
                return feeds, deliveries
            feeds += [feed.id for feed in claimed]
            deliveries += [delivery.id for delivery in sent]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, [first, second, first, second]))
    feeds = [feed for claimed, _ in results for feed in claimed]
    deliveries = [delivery for _, sent in results for delivery in sent]
    assert sorted(feeds) == sorted(feed_ids)
    assert len(deliveries) == len(set(deliveries)) == 40
    assert first.delivery_statuses() == {"sending": 40}


def test_a_restarted_owner_hands_back_only_its_own_feed_claims(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    first, second = stores
    for n in range(4):
        first.add_feed(f"https://{n}.example/rss", None)
    mine = first.claim_due_feeds(NOW, 2, LEASE, owner="host-a:poll")
    theirs = second.claim_due_feeds(NOW, 2, LEASE, owner="host-b:poll")
    first.record_polls([PollRecord(mine[0].id, NOW + timedelta(hours=1))], NOW)  # finished

    later = NOW + timedelta(minutes=1)
    assert first.release_feed_claims("host-a:poll", later) == 1
    assert first.release_feed_claims("host-a:poll", later) == 0
    assert [feed.id for feed in first.claim_due_feeds(later, 10, LEASE)] == [mine[1].id]
    assert first.get_feed(mine[0].id).next_poll_at == NOW + timedelta(hours=1)  # type: ignore[union-attr]
    assert {first.get_feed(feed.id).next_poll_at for feed in theirs} == {LEASE}  # type: ignore[union-attr]


def test_a_restarted_owner_hands_back_only_its_own_deliveries(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    first, second = stores
    first.enqueue([alert(n) for n in range(5)], NOW)
    mine = first.claim_deliveries(NOW, 2, LEASE, owner="host-a:deliver")
    second.claim_deliveries(NOW, 2, LEASE, owner="host-b:deliver")
    first.mark_delivered(mine[0].id, "m1", NOW)

    assert first.release_claims(NOW, owner="host-a:deliver") == 1
    assert first.delivery_statuses() == {"sent": 1, "pending": 2, "sending": 2}
    assert first.release_claims(NOW) == 2  # no owner: a single process takes back every claim
    assert first.delivery_statuses() == {"sent": 1, "pending": 4}


def test_a_named_lock_has_one_holder_at_a_time(stores: tuple[SqlStore, SqlStore]) -> None:
    store = stores[0]
    lock = store.try_lock("story-clustering")
    assert lock is not None and lock.held()
    assert store.try_lock("story-clustering") is None
    with store.try_lock("retention") as other:  # type: ignore[union-attr]
        assert other.held()
    assert not other.held()
    lock.release()
    assert not lock.held()
    lock.release()  # idempotent
    again = store.try_lock("story-clustering")
    assert again is not None
    again.release()


def test_another_process_cannot_take_a_held_lock(test_postgres: TestPostgres) -> None:
    """On PostgreSQL a lock excludes every other connection to the database."""
    url = test_postgres.new_database()
    first, second = SqlStore.open(url), SqlStore.open(url)
    try:
        lock = first.try_lock("story-clustering")
        assert lock is not None
        assert second.try_lock("story-clustering") is None
        lock.release()
        taken = second.try_lock("story-clustering")
        assert taken is not None and taken.held()
        assert first.try_lock("story-clustering") is None
        taken.release()
    finally:
        first.close()
        second.close()
        test_postgres.drop_database(url)


HOLDER = """
import sys, time
from bot.storage.sql import SqlStore
from tests.support.postgres import TestPostgres
store = SqlStore.open(sys.argv[1])
assert store.try_lock("story-clustering") is not None
print("held", flush=True)
time.sleep(120)
"""


def test_a_lock_is_freed_when_its_holder_dies(test_postgres: TestPostgres) -> None:
    url = test_postgres.new_database()
    store = SqlStore.open(url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert store.try_lock("story-clustering") is None
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30  # the server notices the closed socket at once
        while (lock := store.try_lock("story-clustering")) is None:
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.1)
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        store.close()
        test_postgres.drop_database(url)
