"""Several newsbot processes on one database: roles, Discord shards, subscriptions seen by all."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import SUBSCRIPTION_CHECK_SECONDS
from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.transports.discord.conftest import start_bot, stop_bot, wait_for_articles

pytestmark = pytest.mark.slow

FAST = (
    "[poll]\ncheck_seconds = 0.3\ninterval_minutes = 0.02\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.2\n[parse]\nworkers = 0\n"
)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def process_env(root: Path, name: str, database: Path, **more: str) -> dict[str, str]:
    """One process's own data folder, the shared database, and more variables."""
    return {
        "NEWSBOT_DATA_DIR": str(root / name),
        "NEWSBOT_DATABASE_URL": f"sqlite:///{database}",
        **more,
    }


def guild_id_on_shard(emu: Emulator, shard: int, shard_count: int) -> int:
    """A fresh snowflake whose guild Discord routes to ``shard``."""
    snowflake = emu.world.snowflake()
    stamp = snowflake >> 22
    stamp += (shard - stamp) % shard_count
    return (stamp << 22) | (snowflake & 0x3FFFFF)


async def test_two_shard_processes_each_answer_their_own_guilds(
    tmp_path: Path, feeds: FeedServer
) -> None:
    workspace = write_config(tmp_path, allow=[feeds.allow_entry], extra=FAST)
    database = tmp_path / "shared.db"
    log = tmp_path / "bot.log"
    async with Emulator() as emu:
        members = []
        for shard in (0, 1):
            guild = emu.add_guild(guild_id_on_shard(emu, shard, 2), name=f"Shard {shard}")
            emu.add_text_channel(guild.id, "general")
            members.append((guild.id, emu.add_member(guild.id, username=f"reader{shard}")))
        processes = []
        for shard in (0, 1):
            env = process_env(
                tmp_path,
                f"shard{shard}",
                database,
                NEWSBOT_DISCORD__SHARD_COUNT="2",
                NEWSBOT_DISCORD__SHARD_IDS=str(shard),
                DISCORD_TOKEN=f"token-of-shard-{shard}",
            )
            processes.append(await start_bot(emu, workspace.env, log, extra_env=env))
            # One at a time: the first migrates the new database.
            await emu.wait_for_command_sync(count=shard + 1, timeout=60)
        try:
            await emu.wait_until_shards_connected([0, 1], timeout=60)
            for shard, (guild_id, member) in enumerate(members):
                asked = await emu.invoke("subscriptions", guild_id=guild_id, user_id=member.user.id)
                answer = await asked.wait_original()
                assert "no subscriptions" in answer.content.lower()
                assert (asked.shard_id, asked.session_token) == (shard, f"token-of-shard-{shard}")
            assert sorted(s.shard for s in emu.gateway.shard_sessions.values()) == [[0, 2], [1, 2]]
            # Without shard 1's process, its guild goes unanswered; shard 0's still is.
            await stop_bot(processes[1])
            emu.watch_process(processes[0])
            unanswered = await emu.invoke(
                "subscriptions", guild_id=members[1][0], user_id=members[1][1].user.id
            )
            answered = await emu.invoke(
                "subscriptions", guild_id=members[0][0], user_id=members[0][1].user.id
            )
            await answered.wait_original()
            await asyncio.sleep(1)
            assert not unanswered.acknowledged
        finally:
            for process in processes:
                await stop_bot(process)
    assert "Traceback" not in log.read_text(encoding="utf-8")


async def test_roles_split_the_work_and_subscriptions_reach_every_poller(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """A gateway-only process takes the subscription; a poll-only process without any
    Discord connection matches it within seconds; a deliver-only process sends the DM over
    REST without ever opening a gateway connection."""
    base = feeds.base_url
    feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base)]))
    workspace = write_config(
        tmp_path, urls=[feeds.url("/wire.xml")], allow=[feeds.allow_entry], extra=FAST
    )
    database = tmp_path / "shared.db"
    log = tmp_path / "bot.log"
    async with Emulator() as emu:
        guild = emu.add_guild(name="Roles")
        emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        roles = {"gateway": "gateway", "poller": "poll,schedule", "sender": "deliver"}
        processes = {}
        for name, role in roles.items():
            env = process_env(tmp_path, name, database)
            processes[name] = await start_bot(
                emu, workspace.env, log, extra_env=env, args=("--roles", role)
            )
            if name == "gateway":  # the first migrates the new database
                await emu.wait_for_command_sync(timeout=60)
        try:
            await emu.wait_until_connected(timeout=60)
            await wait_for_articles(database, at_least=1, seconds=60)  # the poller is up
            made = await (
                await emu.invoke("subscribe", {"query": "volcano"}, user_id=reader.user.id)
            ).wait_original()
            assert "Subscribed" in made.content
            await asyncio.sleep(SUBSCRIPTION_CHECK_SECONDS + 1)  # the poller notices it
            items = [story("volcano", n, base) for n in range(3)]
            feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base), *items]))
            await emu.wait_for(
                lambda: len(emu.dm_messages(reader.user.id)) >= 3, timeout=30, what="three DMs"
            )
            await asyncio.sleep(1)
            assert emu.identify_count == 1  # only the gateway process connected
            for process in processes.values():
                assert process.returncode is None
        finally:
            for process in processes.values():
                await stop_bot(process)
    titles = sorted(m.embeds[0]["title"] for m in emu.dm_messages(reader.user.id))
    assert titles == sorted(title for title, _, _ in items)
    with sqlite3.connect(database) as connection:
        statuses = dict(connection.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
    assert statuses == {"sent": 3}
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text
    assert " ERROR " not in text
