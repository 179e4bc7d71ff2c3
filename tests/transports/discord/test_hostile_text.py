"""Issue 12's two text attacks through the real ``python -m bot run`` and the Discord
emulator: added as a feed (``/feeds add``) and as a ``/summarize`` page, they leave ``/brief``
answering within a second and the bot's memory under 300 MB."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.hostile_feeds import item, rss
from tests.test_hostile_text import BYLINE, MANY_SENTENCES, MAX_RSS_BYTES
from tests.transports.discord.conftest import (
    ADMIN_PERMISSIONS,
    start_bot,
    stop_bot,
    wait_for_articles,
)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="function")]


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_the_attacks_leave_brief_answering_within_a_second(tmp_path: Path) -> None:
    feeds = FeedServer().start()
    feeds.add("/calm.xml", rss(item("Harbour bridge opens", "bridge")))
    attacks = item("Many sentences", "many", MANY_SENTENCES) + item("Byline", "byline", BYLINE)
    feeds.add("/hostile.xml", rss(attacks))
    page = f"<html><body><article><p>{BYLINE}</p><p>{MANY_SENTENCES}</p></article></body></html>"
    feeds.add("/page.html", page, "text/html; charset=utf-8")
    workspace = write_config(tmp_path, urls=[feeds.url("/calm.xml")], allow=[feeds.allow_entry])
    log = tmp_path / "bot.log"
    try:
        async with Emulator() as emu:
            guild = emu.add_guild(name="Newsroom")
            news = emu.add_text_channel(guild.id, "news")
            admin = emu.add_member(guild.id, username="admin", permissions=ADMIN_PERMISSIONS)
            process = await start_bot(emu, workspace.env, log)
            try:
                await emu.wait_for_command_sync(timeout=60)
                await emu.wait_until_connected()
                database = tmp_path / "data" / "newsbot.db"
                await wait_for_articles(database, at_least=1)
                warm = await (await emu.invoke("brief", {})).wait_original(timeout=60)
                assert "Harbour bridge opens" in str(warm.embeds)  # workers are up

                added = await (
                    await emu.invoke(
                        "feeds add",
                        {"url": feeds.url("/hostile.xml"), "channel": news.id},
                        user_id=admin.user.id,
                    )
                ).wait_original(timeout=60)
                assert "Added feed #" in added.content
                await wait_for_articles(database, at_least=3)
                started = time.monotonic()
                brief = await (await emu.invoke("brief", {})).wait_original()
                assert time.monotonic() - started < 1.0
                assert "Many sentences" in str(brief.embeds)

                summarized = await (
                    await emu.invoke("summarize", {"url": feeds.url("/page.html")})
                ).wait_original(timeout=60)
                assert summarized.embeds  # summarised (or its lead), not an error
                started = time.monotonic()
                await (await emu.invoke("brief", {})).wait_original()
                assert time.monotonic() - started < 1.0
                assert rss_of(process.pid) < MAX_RSS_BYTES
            finally:
                assert await stop_bot(process) == 0
    finally:
        feeds.stop()
