"""Chaos: two real ``newsbot run`` processes share one PostgreSQL database and a loopback feed
server; one is SIGKILLed in the middle of polling, and (restarted) again in the middle of
delivery. Every matching item is alerted exactly once in all, every feed is polled again
within one interval plus one lease, and story clustering resumes in the survivor."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.services.clustering import STORIES_LOCK
from bot.storage.sql import SqlStore
from tests.conftest import REPO, write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.support.postgres import TestPostgres
from tests.support.processes import die_with_parent

pytestmark = pytest.mark.slow

FEEDS = 8
INTERVAL = timedelta(seconds=3)
LEASE = timedelta(seconds=9)
CONFIG = f"""
[poll]
check_seconds = 0.3
interval_minutes = {INTERVAL.total_seconds() / 60}
min_interval_minutes = 0.01
lease_minutes = {LEASE.total_seconds() / 60}
batch_size = 2
[alerts]
deliver_seconds = 0.2
lease_minutes = {LEASE.total_seconds() / 60}
per_user_per_hour = 1000
[parse]
workers = 0
"""
SLACK = timedelta(seconds=15)
"""A claim, a poll on a slow server and a busy machine, on top of interval plus lease."""


@pytest.fixture
def database(test_postgres: TestPostgres) -> Iterator[str]:
    url = test_postgres.new_database()
    yield url
    test_postgres.drop_database(url)


@dataclass
class Bot:
    """One ``newsbot run --roles poll,deliver,schedule`` process and its log."""

    name: str
    log: Path
    process: asyncio.subprocess.Process | None = None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def start(bot: Bot, env: dict[str, str]) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD"))}
    with bot.log.open("ab") as output:
        bot.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--roles",
            "poll,deliver,schedule",
            cwd=REPO,
            env=environment | env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            preexec_fn=die_with_parent,
        )


async def until(check, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"waited {seconds} s for {what}")
        await asyncio.sleep(0.1)


async def test_two_processes_survive_kills_mid_poll_and_mid_delivery(
    tmp_path: Path, feed_server: FeedServer, database: str
) -> None:
    base = feed_server.base_url
    paths = [f"/wire{n}.xml" for n in range(FEEDS)]
    for number, path in enumerate(paths):
        feed_server.add(path, rss(f"Wire {number}", [story("harvest", number, base)]))
    workspace = write_config(tmp_path, allow=[feed_server.allow_entry], extra=CONFIG)
    engine = create_engine(database)

    def scalar(query: str, **values: object) -> object:
        with engine.connect() as connection:
            return connection.execute(text(query), values).scalar()

    async with Emulator() as emu:
        guild = emu.add_guild(name="Chaos")
        reader = emu.add_member(guild.id, username="reader")
        store = SqlStore.open(database)
        for number, path in enumerate(paths):
            store.add_feed(feed_server.url(path), f"Wire {number}", guild_id=guild.id)
        store.add_subscription(guild.id, reader.user.id, "volcano", "dm", None, datetime.now(UTC))
        store.close()
        bots = [Bot("a", tmp_path / "a.log"), Bot("b", tmp_path / "b.log")]
        env = {
            **workspace.env,
            **emu.env,
            "NEWSBOT_DATABASE_URL": database,
            "NEWSBOT_LOG_LEVEL": "INFO",
        }
        envs = {bot.name: env | {"NEWSBOT_DATA_DIR": str(tmp_path / bot.name)} for bot in bots}
        first, second = bots
        try:
            await start(first, envs["a"])
            await until(lambda: f"now runs {STORIES_LOCK}" in first.text(), "A clustering")
            await start(second, envs["b"])
            await until(
                lambda: scalar("SELECT count(*) FROM feeds WHERE initialized") == FEEDS,
                "every feed's first poll",
            )
            # Kill A in the middle of polling: new items on slow servers.
            wave = [story("volcano", n, base) for n in range(FEEDS)]
            for number, path in enumerate(paths):
                items = [story("harvest", number, base), wave[number]]
                feed_server.add(path, rss(f"Wire {number}", items), delay=2.0)
            await until(
                lambda: scalar(
                    "SELECT count(*) FROM feeds WHERE claimed_by LIKE :a AND next_poll_at > :now",
                    a="%/a#%",
                    now=datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=2),
                ),
                "A claiming feeds",
            )
            assert first.process is not None
            first.process.kill()
            await first.process.wait()
            killed_at = datetime.now(UTC)
            await until(lambda: f"now runs {STORIES_LOCK}" in second.text(), "B taking over")
            await until(
                lambda: (
                    scalar(
                        "SELECT count(*) FROM feeds WHERE last_success_at > :killed",
                        killed=killed_at.replace(tzinfo=None),
                    )
                    == FEEDS
                ),
                "every feed polled after the kill",
                seconds=(INTERVAL + LEASE + SLACK).total_seconds(),
            )
            # Kill A again in the middle of delivery: messages are made, then answered 500.
            await start(first, envs["a"])
            await until(lambda: first.text().count("running with roles") == 2, "A restarted")
            emu.fail("POST", "/channels/*/messages", status=500, times=None, after_processing=True)
            more = [story("volcano", FEEDS + n, base) for n in range(FEEDS)]
            for number, path in enumerate(paths):
                items = [story("harvest", number, base), wave[number], more[number]]
                feed_server.add(path, rss(f"Wire {number}", items))
            await until(
                lambda: scalar(
                    "SELECT count(*) FROM outbox WHERE status = 'sending' AND claimed_by LIKE :a",
                    a="%/a#%",
                ),
                "A sending",
            )
            first.process.kill()
            await first.process.wait()
            emu.clear_faults()
            expected = sorted(title for title, _, _ in wave + more)
            await emu.wait_for(
                lambda: len(emu.dm_messages(reader.user.id)) >= len(expected),
                timeout=(LEASE + SLACK).total_seconds() * 3,
                what="every alert",
            )
            await asyncio.sleep(3)  # nothing more arrives
            assert second.process is not None and second.process.returncode is None
            second.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.process.wait(), 30) == 0
        finally:
            for bot in bots:
                if bot.process is not None and bot.process.returncode is None:
                    bot.process.kill()
                    await bot.process.wait()
    titles = sorted(m.embeds[0]["title"] for m in emu.dm_messages(reader.user.id))
    assert titles == expected  # each matching item alerted once: none lost, none twice
    assert scalar("SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
    assert scalar("SELECT count(*) FROM articles WHERE story_pending") == 0
    assert "Traceback" not in second.text()
    engine.dispose()
