"""A stop (SIGTERM, SIGINT) in the middle of a poll: the claims are handed back at once, and
the log holds no ERROR and no traceback. A process killed mid-poll and restarted polls its
leftover claims at once instead of after their ten-minute lease."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO, Workspace, write_config
from tests.support.feed_server import FeedServer
from tests.support.hostile_server import HostileServer

pytestmark = pytest.mark.slow


def poll_times(database: Path) -> list[datetime]:
    """Every feed's next poll time (UTC; far future while claimed)."""
    try:
        with sqlite3.connect(database, timeout=30) as connection:
            rows = connection.execute("SELECT next_poll_at FROM feeds ORDER BY id").fetchall()
    except sqlite3.Error:  # not created yet
        return []
    return [
        datetime.fromisoformat(value).replace(tzinfo=UTC) if value else datetime.min
        for (value,) in rows
    ]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_mid_poll_hands_back_the_claims_quietly(
    tmp_path: Path, feed_server: FeedServer, stop_signal: signal.Signals
) -> None:
    async with HostileServer() as hostile:
        workspace = slow_and_fast(tmp_path, feed_server, hostile)
        log = tmp_path / "bot.log"
        process = await start_poller(workspace, log)
        try:
            await until_mid_poll(workspace.database, process, log)
            stopped_at = datetime.now(UTC)
            process.send_signal(stop_signal)
            async with asyncio.timeout(30):
                status = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert status == 0, text
    assert " ERROR " not in text and "Traceback" not in text, text
    assert "stopping: handed back 2 claimed feeds" in text
    # Due again now, not after the ten-minute lease.
    assert all(due <= stopped_at + timedelta(seconds=30) for due in poll_times(workspace.database))


async def start_poller(workspace: Workspace, log: Path) -> asyncio.subprocess.Process:
    """``newsbot run --roles poll`` (no Discord), logging at INFO to ``log``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--roles",
            "poll",
            cwd=REPO,
            env=environment | workspace.env | {"NEWSBOT_LOG_LEVEL": "INFO"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )


async def until_mid_poll(database: Path, process: asyncio.subprocess.Process, log: Path) -> None:
    """Until the fast feed is stored while the slow one, claimed in the same batch (leased
    ten minutes ahead), is still dripping."""

    def mid_poll() -> bool:
        assert process.returncode is None, log.read_text()
        later = datetime.now(UTC) + timedelta(minutes=5)
        return _stored(database) and poll_times(database)[0] > later

    await until(mid_poll, "the middle of a poll", 90)


async def until(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"waited {seconds} s for {what}")
        await asyncio.sleep(0.1)


def slow_and_fast(root: Path, feed_server: FeedServer, hostile: HostileServer) -> Workspace:
    feed_server.add_fixture("/fast.xml", "feeds/rss2.xml")
    return write_config(
        root,
        urls=[hostile.url("/drip?interval=0.5"), feed_server.url("/fast.xml")],
        allow=[feed_server.allow_entry, hostile.endpoint],
        deadline=120.0,
        extra="[parse]\nworkers = 0",
    )


async def test_a_process_killed_mid_poll_polls_its_leftover_claims_when_restarted(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with HostileServer() as hostile:
        workspace = slow_and_fast(tmp_path, feed_server, hostile)
        log = tmp_path / "bot.log"
        process = await start_poller(workspace, log)
        try:
            await until_mid_poll(workspace.database, process, log)
            leased_until = poll_times(workspace.database)[0]
            process.kill()
            await process.wait()
            process = await start_poller(workspace, log)
            await until(lambda: "claimed by the last run of" in log.read_text(), "the release")
            restarted_at = datetime.now(UTC)
            # The slow feed is claimed again by the new run: polled now, not in ten minutes.
            await until(
                lambda: leased_until != poll_times(workspace.database)[0] > restarted_at,
                "a new claim",
                30,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "2 feeds claimed by the last run of" in text
    assert "Traceback" not in text


def _stored(database: Path) -> bool:
    try:
        with sqlite3.connect(database, timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    except sqlite3.Error:
        return False
