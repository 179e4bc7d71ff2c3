"""The real newsbot process against the Discord emulator and the loopback feed server."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import REPO, write_config
from tests.discord_emulator import Emulator, Perm
from tests.support.feed_server import FeedServer
from tests.support.processes import die_with_parent

ADMIN_PERMISSIONS = int(Perm.MANAGE_GUILD | Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)


@dataclass
class Harness:
    emu: Emulator
    feeds: FeedServer
    process: asyncio.subprocess.Process
    data_dir: Path
    log: Path
    guild_id: int
    general_id: int
    news_id: int
    muted_id: int
    admin_id: int
    member_id: int
    other_member_id: int


async def start_bot(
    emu: Emulator,
    env: dict[str, str],
    log: Path,
    *,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> asyncio.subprocess.Process:
    """``python -m bot run [ARGS]`` with the emulator's variables, as a separate process
    whose output goes to ``log``."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "DISCORD_"))
    }
    environment.update(emu.env)
    environment.update(env)
    environment.update(extra_env or {})
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *args,
            cwd=REPO,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            preexec_fn=die_with_parent,
        )
    emu.watch_process(process)
    return process


async def wait_for_articles(database: Path, *, at_least: int, seconds: float = 30) -> None:
    """Until the bot's first poll has stored the config feeds' articles."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            with sqlite3.connect(database) as connection:
                count = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.Error:
            count = 0
        if count >= at_least:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"only {count} articles stored after {seconds} s")
        await asyncio.sleep(0.1)


async def stop_bot(process: asyncio.subprocess.Process, *, kill: bool = False) -> int:
    """Stop the bot (SIGTERM, or SIGKILL to simulate a crash) and return its exit status."""
    if process.returncode is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode or 0


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    root = tmp_path_factory.mktemp("discord")
    feeds = FeedServer().start()
    for path, fixture in {
        "/rss2.xml": "feeds/rss2.xml",
        "/atom.xml": "feeds/atom.xml",
        "/rss1.xml": "feeds/rss1.xml",
        "/feed.json": "feeds/feed.json",
        "/hostile.xml": "feeds/hostile_titles.xml",
        "/pages/harvest.html": "pages/harvest.html",
    }.items():
        feeds.add_fixture(path, fixture)
    workspace = write_config(
        root,
        urls=[feeds.url("/rss2.xml"), feeds.url("/hostile.xml")],
        allow=[feeds.allow_entry],
        extra="[poll]\ncheck_seconds = 0.5\n[alerts]\ndeliver_seconds = 0.2\n"
        "[briefing]\nmax_stories = 25",
    )
    log = root / "bot.log"
    async with Emulator() as emu:
        guild = emu.add_guild(name="Newsroom")
        general = emu.add_text_channel(guild.id, "general")
        news = emu.add_text_channel(guild.id, "news")
        muted = emu.add_text_channel(guild.id, "muted", bot_can_send=False)
        admin = emu.add_member(guild.id, username="admin", permissions=ADMIN_PERMISSIONS)
        member = emu.add_member(guild.id, username="reader")
        other = emu.add_member(guild.id, username="other")
        process = await start_bot(emu, workspace.env, log)
        try:
            await emu.wait_for_command_sync(timeout=60)
            await emu.wait_until_connected()
            await wait_for_articles(root / "data" / "newsbot.db", at_least=4)
            yield Harness(
                emu=emu,
                feeds=feeds,
                process=process,
                data_dir=root / "data",
                log=log,
                guild_id=guild.id,
                general_id=general.id,
                news_id=news.id,
                muted_id=muted.id,
                admin_id=admin.user.id,
                member_id=member.user.id,
                other_member_id=other.user.id,
            )
        finally:
            await stop_bot(process)
            sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-4000:])
    feeds.stop()
