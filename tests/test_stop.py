"""A stop (SIGTERM, SIGINT) in the middle of a poll: the claims are handed back at once, and
the log holds no ERROR and no traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO, write_config
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
    feed_server.add_fixture("/fast.xml", "feeds/rss2.xml")
    async with HostileServer() as hostile:
        workspace = write_config(
            tmp_path,
            urls=[hostile.url("/drip?interval=0.5"), feed_server.url("/fast.xml")],
            allow=[feed_server.allow_entry, hostile.endpoint],
            deadline=120.0,
            extra="[parse]\nworkers = 0",
        )
        environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        log = tmp_path / "bot.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
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
        try:
            async with asyncio.timeout(90):
                # The fast feed is stored while the slow one, claimed in the same batch
                # (leased 10 minutes ahead), is still dripping.
                while not (
                    _stored(workspace.database)
                    and poll_times(workspace.database)[0] > datetime.now(UTC) + timedelta(minutes=5)
                ):
                    assert process.returncode is None, log.read_text()
                    await asyncio.sleep(0.1)
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


def _stored(database: Path) -> bool:
    try:
        with sqlite3.connect(database, timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    except sqlite3.Error:
        return False
