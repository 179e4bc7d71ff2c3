"""Following a developing story through the real ``newsbot run`` and the Discord emulator:
Follow under a channel alert, one DM card PATCHed as the story gains articles, the channel
alert edited rather than re-posted, an edit interrupted by SIGKILL made once after the
restart, and a card the member deleted ends the follow without a new DM."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.developing import STORY_REPORTS
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss
from tests.transports.discord.conftest import start_bot, stop_bot

pytestmark = pytest.mark.slow

WIRES = ("north", "south", "east", "west")
SETTINGS = (
    "[poll]\ncheck_seconds = 0.3\ninterval_minutes = 0.02\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.2\n[follows]\nedit_minutes = 0\n"
)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    for wire in WIRES:
        server.add(f"/{wire}.xml", rss(wire.title(), []))
    yield server
    server.stop()


def publish(feeds: FeedServer, n: int) -> None:
    title, text = STORY_REPORTS[n]
    wire = WIRES[n]
    link = f"{feeds.base_url}/{wire}/kostrava-{n}"
    feeds.add(f"/{wire}.xml", rss(wire.title(), [(title, link, text)]))


async def wait_until_polled(database: Path, feeds: int, seconds: float = 30) -> None:
    """Until every feed had its first fetch (what it held then is not announced)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            with sqlite3.connect(database) as connection:
                done = connection.execute("SELECT count(*) FROM feeds WHERE initialized").fetchone()
            if done[0] >= feeds:
                return
        except sqlite3.Error:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("the feeds were never fetched")


def follow_status(database: Path, user_id: int) -> str | None:
    """The state of the member's follow, as the bot stored it."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT status FROM story_messages WHERE recipient_type = 'user' AND recipient_id = ?",
            (user_id,),
        ).fetchone()
    return row[0] if row else None


def edits_of(emu: Emulator, message_id: int) -> list[object]:
    """Successful PATCHes of one message."""
    return [
        r
        for r in emu.requests("PATCH")
        if r.path.endswith(f"/messages/{message_id}") and r.status == 200 and not r.fault
    ]


async def test_follow_edits_one_dm_and_the_channel_alert_and_survives_sigkill(
    tmp_path: Path, feeds: FeedServer
) -> None:
    urls = [feeds.url(f"/{wire}.xml") for wire in WIRES]
    workspace = write_config(tmp_path, urls=urls, allow=[feeds.allow_entry], extra=SETTINGS)
    database = tmp_path / "data" / "newsbot.db"
    log = tmp_path / "bot.log"
    async with Emulator() as emu:
        guild = emu.add_guild(name="Desk")
        general = emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        process = await start_bot(emu, workspace.env, log)
        try:
            await emu.wait_for_command_sync(timeout=60)
            await emu.wait_until_connected()
            await wait_until_polled(database, len(WIRES))
            made = await (
                await emu.invoke(
                    "subscribe",
                    {"query": "kostrava", "delivery": "here"},
                    user_id=reader.user.id,
                    channel_id=general.id,
                )
            ).wait_original()
            assert "Subscribed" in made.content

            publish(feeds, 0)
            alert = await emu.wait_for_message(
                general.id, predicate=lambda m: bool(m.embeds), source="channel", timeout=30
            )
            assert [b["label"] for b in alert.buttons()] == ["Follow"]
            pressed = await emu.click(alert, label="Follow", user_id=reader.user.id)
            answer = await pressed.wait_response()
            assert "Following" in answer.data["content"]
            card = await emu.wait_for_dm(reader.user.id, timeout=30)

            publish(feeds, 1)
            await emu.wait_for(
                lambda: len(edits_of(emu, card.id)) >= 1 and len(edits_of(emu, alert.id)) >= 1,
                timeout=30,
                what="the card and the alert edited",
            )
            assert emu.message(alert.id).content.startswith("developing · 2 sources · updated ")

            # The next edit is refused with a long 429: discord.py waits, and is killed waiting.
            limit = emu.fail("PATCH", "/channels/*/messages/*", status=429, retry_after=60)
            publish(feeds, 2)
            await emu.wait_for(lambda: limit.hits >= 1, timeout=30, what="the edit attempted")
            await stop_bot(process, kill=True)
            emu.clear_faults()
            process = await start_bot(emu, workspace.env, log)
            await emu.wait_for(
                lambda: len(edits_of(emu, card.id)) >= 2, timeout=60, what="the second edit"
            )
            await asyncio.sleep(2)  # nothing more arrives
            assert len(edits_of(emu, card.id)) == 2, "each edit made exactly once"
            final = emu.message(card.id)
            assert "**New:**" in final.embeds[0]["description"]
            assert "3 sources" in final.embeds[0]["footer"]["text"]

            await emu.delete_message(card)  # the member deletes the card
            publish(feeds, 3)
            await emu.wait_for(
                lambda: len(edits_of(emu, alert.id)) >= 3, timeout=30, what="the alert's edit"
            )
            await emu.wait_for(
                lambda: follow_status(database, reader.user.id) == "ended",
                timeout=30,
                what="the follow ended",
            )
            await asyncio.sleep(1)
        finally:
            await stop_bot(process)
        assert emu.dm_messages(reader.user.id) == [], "the deleted card is not posted again"
        dm_channel = emu.dm_channel(reader.user.id)
        assert dm_channel is not None
        assert [m.id for m in emu.messages(dm_channel.id, include_deleted=True)] == [card.id]
        assert len(emu.messages(general.id, source="channel")) == 1, "the alert is not re-posted"
        assert emu.message(alert.id).content.startswith("developing · 4 sources · updated ")
