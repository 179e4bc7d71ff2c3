"""SIGKILL in the middle of ingest: after a restart every item is stored exactly once and the
database is intact (delivery crashes are covered by the Discord lifecycle tests)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, Workspace, run_newsbot, write_config
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story

pytestmark = pytest.mark.slow

FEEDS, ITEMS = 30, 200


def article_count(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def fetch_until_killed(workspace: Workspace, at_least: int) -> int:
    """Start ``newsbot fetch``, SIGKILL it once ``at_least`` articles are stored; return how
    many were stored at that moment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "fetch"],
        cwd=REPO,
        env=environment | workspace.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if article_count(workspace.database) >= at_least:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL, "fetch finished before it could be killed"
    return article_count(workspace.database)


def test_killed_mid_ingest_then_restarted_stores_every_item_exactly_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    base = feed_server.base_url
    links = set()
    for number in range(FEEDS):
        items = [story(f"topic{number}", n, base) for n in range(ITEMS)]
        links.update(link for _, link, _ in items)
        feed_server.add(f"/f{number}.xml", rss(f"Feed {number}", items))
    workspace = write_config(
        tmp_path,
        urls=[feed_server.url(f"/f{number}.xml") for number in range(FEEDS)],
        allow=[feed_server.allow_entry],
    )
    first = fetch_until_killed(workspace, at_least=ITEMS)
    second = fetch_until_killed(workspace, at_least=first + 3 * ITEMS)
    assert 0 < first < second < len(links)
    result = run_newsbot(["fetch"], env=workspace.env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(workspace.database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        connection.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        urls = [row[0] for row in connection.execute("SELECT url FROM articles")]
        fts_rows = connection.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        per_feed = connection.execute(
            "SELECT feed_id, count(*) FROM article_feeds GROUP BY feed_id"
        ).fetchall()
        uninitialized = connection.execute(
            "SELECT count(*) FROM feeds WHERE NOT initialized"
        ).fetchone()[0]
    assert len(urls) == len(set(urls)) == len(links)
    assert set(urls) == links
    assert fts_rows == len(links)
    assert sorted(count for _, count in per_feed) == [ITEMS] * FEEDS
    assert uninitialized == 0
