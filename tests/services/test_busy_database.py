"""A database locked by another writer: polling, deliveries and briefings wait and retry;
nothing crashes, nothing is lost, nothing is sent twice, no feed is blamed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.errors import StorageBusyError
from bot.core.models import NewDelivery
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.refresh import Refresher
from bot.pipeline.summarize import Summarizer
from bot.services.briefing import BriefingService
from bot.services.delivery import DeliveryService, FloodCaps
from bot.services.polling import Poller, PollPolicy
from bot.services.scheduling import BriefingScheduler
from bot.services.summaries import SummaryService
from bot.storage.sql import SqlStore
from tests.support.clock import FakeClock
from tests.support.hostile_feeds import item, rss
from tests.support.hostile_server import HostileServer
from tests.support.sink import RecordingSink

FEED = rss(item("Locked out", "locked") + item("Still here", "still")).encode()


@contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Another process's writer holding the database's write lock."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@dataclass
class World:
    database: Path
    store: SqlStore
    server: HostileServer
    clock: FakeClock
    poller: Poller
    delivery: DeliveryService
    sink: RecordingSink
    scheduler: BriefingScheduler


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    database = tmp_path / "newsbot.db"
    store = SqlStore.open(f"sqlite:///{database}", busy_timeout=0.2)
    clock = FakeClock()
    sink = RecordingSink()
    async with (
        HostileServer() as server,
        Fetcher(FetchLimits(allow_networks=(server.endpoint,))) as fetcher,
    ):
        summaries = SummaryService(store, Summarizer(sentences=1), fetcher)
        refresher = Refresher(store, fetcher, clock)
        yield World(
            database=database,
            store=store,
            server=server,
            clock=clock,
            poller=Poller(store, refresher, clock, PollPolicy()),
            delivery=DeliveryService(store, summaries, sink, clock, FloodCaps()),
            sink=sink,
            scheduler=BriefingScheduler(
                store,
                BriefingService(store, summaries, clock),
                clock,
                grace=timedelta(hours=1),
                announce_empty=True,
            ),
        )
    store.close()


def stored_titles(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT title FROM articles ORDER BY title")]


def test_a_write_that_stays_locked_raises_storage_busy(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}", busy_timeout=0.1)
    with write_lock(tmp_path / "db.sqlite"), pytest.raises(StorageBusyError, match="busy"):
        store.add_feed("https://news.example/rss", None)
    assert store.list_feeds() == []  # reads go on (WAL)
    store.close()


async def test_polling_while_locked_waits_for_the_next_round(world: World) -> None:
    world.server.respond("/feed.xml", body=FEED)
    world.store.add_feed(world.server.url("/feed.xml"), None)
    with write_lock(world.database):
        assert await world.poller.poll_due() == []
    assert world.server.requests == []
    results = await world.poller.poll_due()
    assert [r.status for r in results] == ["new"]
    assert stored_titles(world.database) == ["Locked out", "Still here"]


async def test_a_lock_taken_mid_ingest_blames_no_feed_and_the_feed_is_polled_again(
    world: World,
) -> None:
    world.server.respond("/slow.xml", body=FEED, delay=0.5)
    feed = world.store.add_feed(world.server.url("/slow.xml"), None)
    polling = asyncio.create_task(world.poller.poll_due())
    while not world.server.requests:  # noqa: ASYNC110 - claimed, and now fetching
        await asyncio.sleep(0.01)
    with write_lock(world.database):
        (result,) = await polling
    assert result.status == "error" and "busy" in (result.error or "")
    stored = world.store.get_feed(feed.id)
    assert stored is not None
    assert stored.failure_count == 0 and stored.last_error is None
    assert stored_titles(world.database) == []
    assert await world.poller.poll_due() == []  # still claimed
    world.clock.advance(minutes=11)  # the claim's lease ends
    (again,) = await world.poller.poll_due()
    assert again.status == "new"
    assert stored_titles(world.database) == ["Locked out", "Still here"]


async def test_delivery_while_locked_is_sent_later_exactly_once(world: World) -> None:
    notice = NewDelivery(
        dedupe_key="notice:locked",
        kind="notice",
        guild_id=1,
        recipient_type="channel",
        recipient_id=42,
        payload='{"pages": [{"content": "hello", "embeds": []}]}',
    )
    world.store.enqueue([notice], world.clock.now)
    with write_lock(world.database):
        assert await world.delivery.deliver_due() == 0
    assert world.sink.posted == []
    assert await world.delivery.deliver_due() == 1
    assert [p.content for p in world.sink.to("channel", 42)] == ["hello"]


async def test_a_lock_between_sending_and_marking_sent_does_not_double_post(
    world: World,
) -> None:
    notice = NewDelivery(
        dedupe_key="notice:mid",
        kind="notice",
        guild_id=1,
        recipient_type="channel",
        recipient_id=7,
        payload='{"pages": [{"content": "once", "embeds": []}]}',
    )
    world.store.enqueue([notice], world.clock.now)
    holder = sqlite3.connect(world.database, isolation_level=None)
    original_send = world.sink.send

    async def send_then_lock(*args: object, **options: object) -> str:
        message_id = await original_send(*args, **options)  # type: ignore[arg-type]
        holder.execute("BEGIN IMMEDIATE")  # the lock arrives before "sent" is recorded
        return message_id

    world.sink.send = send_then_lock  # type: ignore[method-assign]
    assert await world.delivery.deliver_due() == 0
    holder.execute("ROLLBACK")
    holder.close()
    world.sink.send = original_send  # type: ignore[method-assign]
    world.clock.advance(minutes=3)  # the claim's lease ends: sent again, same nonce
    assert await world.delivery.deliver_due() == 1
    assert [p.content for p in world.sink.to("channel", 7)] == ["once"]
    with sqlite3.connect(world.database) as connection:
        assert connection.execute("SELECT status FROM outbox").fetchall() == [("sent",)]


async def test_scheduled_briefings_while_locked_run_on_the_next_round(world: World) -> None:
    due = world.clock.now - timedelta(minutes=1)
    world.store.add_schedule(
        1, 99, f"{due:%H:%M}", "UTC", tuple(range(1, 8)), None, 5, due - timedelta(days=1)
    )
    with write_lock(world.database):
        assert await world.scheduler.run_due() == []
    runs = await world.scheduler.run_due()
    assert [run.outcome for run in runs] == ["empty"]


async def test_a_lock_while_recording_a_batch_of_304s_repeats_the_polls_later(
    world: World,
) -> None:
    world.server.respond("/slow.xml", body=FEED)
    feed = world.store.add_feed(world.server.url("/slow.xml"), None)
    assert [r.status for r in await world.poller.poll_due()] == ["new"]
    world.server.respond("/slow.xml", body=FEED, delay=0.5)
    world.clock.advance(minutes=11)
    before = world.store.get_feed(feed.id)
    polling = asyncio.create_task(world.poller.poll_due())
    while len(world.server.requests) < 2:  # noqa: ASYNC110 - claimed, and now fetching
        await asyncio.sleep(0.01)
    with write_lock(world.database):
        (result,) = await polling  # the 304 came back; recording it found the lock
    assert result.status == "not modified"
    stored = world.store.get_feed(feed.id)
    assert stored is not None and before is not None
    assert stored.last_success_at == before.last_success_at  # nothing of the batch written
    assert stored.failure_count == 0 and stored.last_error is None
    assert await world.poller.poll_due() == []  # still claimed
    world.clock.advance(minutes=11)  # the claim's lease ends
    (again,) = await world.poller.poll_due()
    assert again.status == "not modified"
    assert world.store.get_feed(feed.id).last_success_at == world.clock()  # type: ignore[union-attr]
