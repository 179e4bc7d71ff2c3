"""The bot process over its life: bad tokens, restarts, crashes, reconnects, leaving a guild."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.transports.discord.conftest import (
    ADMIN_PERMISSIONS,
    start_bot,
    stop_bot,
    wait_for_articles,
)

pytestmark = pytest.mark.slow

FAST = (
    "[poll]\ncheck_seconds = 0.3\ninterval_minutes = 0.02\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.2\n"
)


@pytest.fixture
def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


async def test_rejected_token_is_one_line_and_status_2(tmp_path: Path) -> None:
    workspace = write_config(tmp_path)
    async with Emulator() as emu:
        emu.token_valid = False
        process = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        async with asyncio.timeout(60):
            status = await process.wait()
    assert status == 2
    lines = (tmp_path / "bot.log").read_text().strip().splitlines()
    assert lines[-1] == "newsbot: config error in DISCORD_TOKEN: Discord rejected the token"
    assert "Traceback" not in "\n".join(lines)


async def test_commands_are_synced_again_only_when_they_change(
    tmp_path: Path, feeds: FeedServer
) -> None:
    workspace = write_config(tmp_path, allow=[feeds.allow_entry])
    async with Emulator() as emu:
        emu.add_guild(name="Sync")
        first = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        await emu.wait_for_command_sync(timeout=60)
        await emu.wait_until_connected()
        assert await stop_bot(first) == 0
        second = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        await emu.wait_for_identify(2, timeout=60)
        await emu.wait_until_connected()
        await asyncio.sleep(1)
        assert len(emu.command_syncs) == 1
        await stop_bot(second)


async def test_killed_mid_delivery_then_restarted_delivers_each_alert_once(
    tmp_path: Path, feeds: FeedServer
) -> None:
    base = feeds.base_url
    feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base)]))
    workspace = write_config(
        tmp_path, urls=[feeds.url("/wire.xml")], allow=[feeds.allow_entry], extra=FAST
    )
    log = tmp_path / "bot.log"
    async with Emulator() as emu:
        guild = emu.add_guild(name="Alerts")
        emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        process = await start_bot(emu, workspace.env, log)
        await emu.wait_for_command_sync(timeout=60)
        await wait_for_articles(tmp_path / "data" / "newsbot.db", at_least=1)
        made = await (
            await emu.invoke("subscribe", {"query": "volcano"}, user_id=reader.user.id)
        ).wait_original()
        assert "Subscribed" in made.content
        # Every DM is created, then answered 500: the bot keeps retrying the same nonces.
        emu.fail("POST", "/channels/*/messages", status=500, times=None, after_processing=True)
        items = [story("volcano", n, base) for n in range(6)]
        feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base), *items]))
        await emu.wait_for(
            lambda: len(emu.dm_messages(reader.user.id)) >= 2, timeout=30, what="two DMs"
        )
        await stop_bot(process, kill=True)  # SIGKILL in the middle of the batch
        emu.clear_faults()
        restarted = await start_bot(emu, workspace.env, log)
        await emu.wait_for(
            lambda: len(emu.dm_messages(reader.user.id)) >= 6, timeout=60, what="six DMs"
        )
        await asyncio.sleep(2)  # nothing more arrives
        await stop_bot(restarted)
    messages = emu.dm_messages(reader.user.id)
    titles = [m.embeds[0]["title"] for m in messages]
    assert len(messages) == 6
    assert sorted(titles) == sorted(title for title, _, _ in items)
    assert len({m.nonce for m in messages}) == 6
    with sqlite3.connect(tmp_path / "data" / "newsbot.db") as connection:
        statuses = dict(connection.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
    assert statuses == {"sent": 6}


async def test_gateway_drop_resumes_and_commands_keep_working(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.add_fixture("/rss2.xml", "feeds/rss2.xml")
    workspace = write_config(
        tmp_path, urls=[feeds.url("/rss2.xml")], allow=[feeds.allow_entry], extra=FAST
    )
    async with Emulator() as emu:
        guild = emu.add_guild(name="Resume")
        emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        process = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        await emu.wait_for_command_sync(timeout=60)
        await emu.wait_until_connected()
        await wait_for_articles(tmp_path / "data" / "newsbot.db", at_least=2)
        await emu.drop_gateway(None)  # the TCP connection is cut
        await emu.wait_for_resume(1, timeout=30)
        answer = await (
            await emu.invoke("latest", {"count": 1}, user_id=reader.user.id)
        ).wait_original()
        assert len(answer.embeds) == 1
        assert emu.identify_count == 1
        await stop_bot(process)


async def test_leaving_a_guild_deletes_its_feeds_subscriptions_and_schedules(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.add_fixture("/rss2.xml", "feeds/rss2.xml")
    workspace = write_config(tmp_path, allow=[feeds.allow_entry], extra=FAST)
    async with Emulator() as emu:
        guild = emu.add_guild(name="Leaving")
        channel = emu.add_text_channel(guild.id, "general")
        admin = emu.add_member(guild.id, username="admin", permissions=ADMIN_PERMISSIONS)
        process = await start_bot(emu, workspace.env, tmp_path / "bot.log")
        await emu.wait_for_command_sync(timeout=60)
        await emu.wait_until_connected()
        user = admin.user.id
        await (
            await emu.invoke("feeds add", {"url": feeds.url("/rss2.xml")}, user_id=user)
        ).wait_original()
        await (await emu.invoke("subscribe", {"query": "rail"}, user_id=user)).wait_original()
        await (
            await emu.invoke("schedule set", {"channel": channel.id, "time": "08:00"}, user_id=user)
        ).wait_original()
        database = tmp_path / "data" / "newsbot.db"

        def counts() -> tuple[int, int, int]:
            with sqlite3.connect(database) as connection:
                return tuple(
                    connection.execute(
                        f"SELECT count(*) FROM {table} WHERE guild_id = ?", (guild.id,)
                    ).fetchone()[0]
                    for table in ("feeds", "subscriptions", "schedules")
                )

        assert counts() == (1, 1, 1)
        emu.remove_guild(guild.id)
        await emu.wait_for(lambda: counts() == (0, 0, 0), timeout=20, what="guild data deleted")
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        await stop_bot(process)


async def test_dev_guild_gets_the_commands_directly(tmp_path: Path, feeds: FeedServer) -> None:
    workspace = write_config(tmp_path, allow=[feeds.allow_entry])
    async with Emulator() as emu:
        guild = emu.add_guild(name="Dev")
        process = await start_bot(
            emu,
            workspace.env,
            tmp_path / "bot.log",
            extra_env={"NEWSBOT_DEV_GUILD_ID": str(guild.id)},
        )
        await emu.wait_for_command_sync(guild_id=guild.id, timeout=60)
        assert "brief" in emu.commands(guild_id=guild.id)
        await stop_bot(process)


async def test_page_buttons_after_a_restart_say_the_pages_expired(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.add(
        "/many.xml", rss("Many Stories", [story("canal", n, feeds.base_url) for n in range(14)])
    )
    workspace = write_config(
        tmp_path, allow=[feeds.allow_entry], extra="[briefing]\nmax_stories = 14"
    )
    async with Emulator() as emu:
        guild = emu.add_guild(name="Pages")
        emu.add_text_channel(guild.id, "general")
        admin = emu.add_member(guild.id, username="admin", permissions=ADMIN_PERMISSIONS)
        log = tmp_path / "bot.log"
        process = await start_bot(emu, workspace.env, log)
        await emu.wait_for_command_sync(timeout=60)
        await emu.wait_until_connected()
        user = admin.user.id
        await (
            await emu.invoke("feeds add", {"url": feeds.url("/many.xml")}, user_id=user)
        ).wait_original()
        first = await (await emu.invoke("brief", {}, user_id=user)).wait_original()
        assert "Page 1 of" in first.content
        assert await stop_bot(process) == 0
        restarted = await start_bot(emu, workspace.env, log)
        await emu.wait_until_connected()
        pressed = await emu.click(first, label="Next", user_id=user)
        answer = await pressed.wait_original()
        assert answer.ephemeral
        assert "expired" in answer.content
        assert "Page 1 of" in emu.message(first.id).content  # the message itself is untouched
        await stop_bot(restarted)
