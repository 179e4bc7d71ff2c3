"""Discord refusing for good: the bot stops what targets the refused channel, tells the admin
who set it up once, and carries on with everything else."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.transports.discord.conftest import ADMIN_PERMISSIONS, start_bot, stop_bot

pytestmark = pytest.mark.slow

FAST = (
    "[poll]\ncheck_seconds = 0.3\ninterval_minutes = 0.02\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.2\n"
)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


async def test_a_channel_refusing_feed_posts_pauses_the_feed_and_tells_its_admin_once(
    tmp_path: Path, feeds: FeedServer
) -> None:
    base = feeds.base_url
    feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base)]))
    workspace = write_config(tmp_path, allow=[feeds.allow_entry], extra=FAST)
    async with Emulator() as emu:
        guild = emu.add_guild(name="Faults")
        news = emu.add_text_channel(guild.id, "news")
        admin = emu.add_member(guild.id, username="admin", permissions=ADMIN_PERMISSIONS)
        process = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        try:
            await emu.wait_for_command_sync(timeout=60)
            await emu.wait_until_connected()
            user = admin.user.id
            added = await (
                await emu.invoke(
                    "feeds add", {"url": feeds.url("/wire.xml"), "channel": news.id}, user_id=user
                )
            ).wait_original()
            assert "Added feed #" in added.content
            feed_id = int(added.content.split("#", 1)[1].split(" ", 1)[0])
            await emu.wait_for_message(channel_id=news.id, source="channel")  # the announcement
            refused = emu.fail("POST", f"/channels/{news.id}/messages", code=50013, times=None)
            feeds.add("/wire.xml", rss("Wire", [story("harvest", n, base) for n in range(4)]))
            notice = await emu.wait_for_dm(user, timeout=30)
            assert f"I paused the feed **Wire** (#{feed_id})" in notice.content
            assert "missing permissions" in notice.content
            assert notice.allowed_mentions == {"parse": []}
            attempts = refused.hits  # the posts enqueued before the pause (one each)
            feeds.add("/wire.xml", rss("Wire", [story("harvest", n, base) for n in range(6)]))
            await asyncio.sleep(2)  # paused: no more polls, posts or notices
            assert len(emu.dm_messages(user)) == 1
            assert refused.hits == attempts <= 3
            listing = await (await emu.invoke("feeds list", {}, user_id=user)).wait_original()
            assert "**paused**: its channel refuses posts" in listing.content
            emu.clear_faults()
            resumed = await (
                await emu.invoke("feeds resume", {"feed": feed_id}, user_id=user)
            ).wait_original()
            assert resumed.content.startswith(f"Resumed feed #{feed_id}")
            feeds.add("/wire.xml", rss("Wire", [story("harvest", n, base) for n in range(7)]))
            post = await emu.wait_for_message(
                channel_id=news.id, source="channel", predicate=lambda m: bool(m.embeds), timeout=30
            )
            assert post.embeds[0]["title"]
        finally:
            await stop_bot(process)
