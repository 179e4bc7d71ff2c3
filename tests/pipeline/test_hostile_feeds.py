"""Every hostile feed, served over loopback HTTP, through the real fetcher, the parser workers,
the poller and an SQLite file: stored bounded and defused, or recorded as the feed's error."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio

from bot.core.models import Feed
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.isolation import IsolationLimits, ParserPool
from bot.pipeline.parse import MAX_ENTRIES, TITLE_LIMIT
from bot.pipeline.refresh import Refresher
from bot.services.polling import Poller, PollPolicy
from bot.storage.sql import SqlStore
from tests.support.clock import FakeClock
from tests.support.hostile_feeds import HOSTILE_FEEDS, external_entity, item, rss
from tests.support.hostile_server import FEED_BODY, HostileServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLICY = PollPolicy(interval_minutes=10, min_interval_minutes=5, max_interval_minutes=1440)


@dataclass
class Rig:
    server: HostileServer
    store: SqlStore
    database: Path
    refresher: Refresher
    poller: Poller
    clock: FakeClock

    def add(self, path: str) -> Feed:
        return self.store.add_feed(self.server.url(path), None)

    def add_due_alone(self, path: str) -> Feed:
        """A feed due now, every other feed parked a year ahead."""
        for other in self.store.list_feeds():
            self.store.schedule_next_poll(other.id, self.clock.now + timedelta(days=365))
        feed = self.add(path)
        self.store.schedule_next_poll(feed.id, self.clock.now)
        return feed

    def articles(self, feed: Feed) -> list[tuple[str, str, str]]:
        """(url, title, text) of the articles the feed holds (stored by it or before it)."""
        with sqlite3.connect(self.database) as connection:
            return connection.execute(
                "SELECT url, title, text FROM articles JOIN article_feeds "
                "ON article_feeds.article_id = articles.id WHERE article_feeds.feed_id = ? "
                "ORDER BY articles.pk",
                (feed.id,),
            ).fetchall()

    def titles(self, feed: Feed) -> list[str]:
        return [title for _, title, _ in self.articles(feed)]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    database = tmp_path_factory.mktemp("hostile") / "newsbot.db"
    store = SqlStore.open(f"sqlite:///{database}")
    clock = FakeClock()
    async with HostileServer() as server:
        limits = FetchLimits(allow_networks=(server.endpoint,), deadline=10.0)
        parser_limits = IsolationLimits(workers=2, timeout=1.5, memory_bytes=768 * 1024 * 1024)
        async with Fetcher(limits) as fetcher, ParserPool(parser_limits) as parsers:
            refresher = Refresher(store, fetcher, clock, parsers=parsers)
            poller = Poller(store, refresher, clock, POLICY)
            yield Rig(server, store, database, refresher, poller, clock)
    store.close()


@pytest.mark.parametrize("name", sorted(set(HOSTILE_FEEDS) - {"many-attributes"}))
async def test_hostile_feed_is_stored_defused_or_fails_as_that_feed_alone(
    rig: Rig, name: str
) -> None:
    case = HOSTILE_FEEDS[name]()
    feed = rig.add(f"/hostile/{name}")
    result = await rig.refresher.refresh_feed(feed)
    stored = rig.store.get_feed(feed.id)
    assert stored is not None
    if case.titles is None:
        assert result.status == "error"
        assert stored.failure_count == 1 and stored.last_error
        return
    assert result.status in ("new", "seen"), result.error
    titles = rig.titles(feed)
    if case.titles:
        assert tuple(titles) == case.titles
    assert 0 < len(titles) <= MAX_ENTRIES
    for url, title, text in rig.articles(feed):
        assert url.startswith(("http://", "https://", "urn:newsbot:"))
        assert len(title) <= TITLE_LIMIT
        for expanded in ("AAAAAAAAAA", "BBBBBBBBBB", "lollollol", "root:"):
            assert expanded not in title + text


async def test_quadratic_markup_times_out_in_its_worker_and_the_next_feed_is_read(
    rig: Rig,
) -> None:
    slow = rig.add("/hostile/many-attributes")
    result = await rig.refresher.refresh_feed(slow)
    assert result.status == "error"
    assert "took longer than 1.5 seconds" in (result.error or "")
    calm = rig.add("/feed")
    assert (await rig.refresher.refresh_feed(calm)).status in ("new", "seen")


async def test_external_entities_are_never_fetched(rig: Rig) -> None:
    rig.server.respond("/secret", body=b"<!ENTITY leaked 'secret'>")
    rig.server.respond("/xxe.xml", body=external_entity(rig.server.url("/secret")))
    feed = rig.add("/xxe.xml")
    await rig.refresher.refresh_feed(feed)
    assert [r for r in rig.server.requests if r.target.startswith("/secret")] == []
    assert all("secret" not in title for title in rig.titles(feed))


async def test_a_body_naming_a_local_file_does_not_read_that_file(rig: Rig, tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(rss(item("TOKEN=hunter2", "secret")), encoding="utf-8")
    rig.server.respond("/filename", body=str(secret).encode())
    feed = rig.add("/filename")
    result = await rig.refresher.refresh_feed(feed)
    assert result.status == "error"
    assert rig.titles(feed) == []


@pytest.mark.parametrize("status", [401, 403, 404, 500, 502, 503])
async def test_error_statuses_back_off_without_pausing(rig: Rig, status: int) -> None:
    feed = rig.add_due_alone(f"/status/{status}")
    await rig.poller.poll_due()
    stored = rig.store.get_feed(feed.id)
    assert stored is not None
    assert f"HTTP {status}" in (stored.last_error or "")
    assert not stored.paused
    assert stored.next_poll_at == rig.clock.now + timedelta(minutes=20)  # interval * 2


@pytest.mark.parametrize(("status", "seconds"), [(429, 7200), (503, 10800)])
async def test_retry_after_is_honoured(rig: Rig, status: int, seconds: int) -> None:
    feed = rig.add_due_alone(f"/status/{status}?retry_after={seconds}")
    await rig.poller.poll_due()
    stored = rig.store.get_feed(feed.id)
    assert stored is not None
    assert stored.next_poll_at == rig.clock.now + timedelta(seconds=seconds)


async def test_retry_after_as_an_http_date_is_honoured(rig: Rig) -> None:
    when = format_datetime(rig.clock.now + timedelta(hours=5), usegmt=True)
    feed = rig.add_due_alone(f"/status/429?retry_after={quote(when)}")
    await rig.poller.poll_due()
    stored = rig.store.get_feed(feed.id)
    assert stored is not None and stored.next_poll_at is not None
    assert stored.next_poll_at >= rig.clock.now + timedelta(hours=4)


async def test_gone_pauses_the_feed(rig: Rig) -> None:
    feed = rig.add_due_alone("/status/410")
    await rig.poller.poll_due()
    stored = rig.store.get_feed(feed.id)
    assert stored is not None and stored.paused
    assert "410" in (stored.paused_reason or "")


async def test_not_modified_costs_no_parse(rig: Rig) -> None:
    feed = rig.add("/feed?conditional")
    assert (await rig.refresher.refresh_feed(feed)).status in ("new", "seen")
    again = rig.store.get_feed(feed.id)
    assert again is not None and again.etag
    result = await rig.refresher.refresh_feed(again)
    assert result.status == "not modified"
    assert result.hints.http_status == 304
    assert len(rig.titles(feed)) == FEED_BODY.count(b"<item>")
