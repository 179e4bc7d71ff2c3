"""Operations without Discord: health probes, the heartbeat, `newsbot health`, JSON logs,
metrics text, stopping on SIGTERM/SIGINT, and the lock file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import Feed, FeedRefresh
from bot.ops.health import HealthMonitor, Heartbeat, heartbeat_path, read_heartbeat
from bot.ops.logs import JsonFormatter
from bot.ops.metrics import Metrics, Snapshot
from tests.conftest import REPO, run_newsbot, write_config

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_health_monitor_reports_failing_and_hanging_probes() -> None:
    async def healthy() -> str | None:
        return None

    async def down() -> str | None:
        return "database unreachable"

    async def hangs() -> str | None:
        await asyncio.sleep(3600)
        return None

    async def broken() -> str | None:
        raise RuntimeError("boom")

    monitor = HealthMonitor(
        {"ok": healthy, "database": down, "gateway": hangs, "odd": broken}, timeout=0.2
    )
    assert await monitor.problems() == [
        "database unreachable",
        "gateway did not answer within 0.2 s",
        "odd check failed: boom",
    ]


async def test_heartbeat_is_written_then_removed(tmp_path: Path) -> None:
    async def down() -> str | None:
        return "scheduler stopped"

    path = heartbeat_path(tmp_path)
    heartbeat = Heartbeat(path, HealthMonitor({"scheduler": down}), lambda: NOW, every=0.05)
    beating = asyncio.create_task(heartbeat.run())
    await asyncio.sleep(0.2)  # several beats
    beating.cancel()
    record = read_heartbeat(path)
    assert record is not None
    assert (record.at, record.pid, record.problems) == (NOW, os.getpid(), ("scheduler stopped",))
    heartbeat.remove()
    assert read_heartbeat(path) is None


def write_heartbeat(data_dir: Path, *, age: float, problems: list[str] | None = None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "at": (datetime.now(UTC) - timedelta(seconds=age)).isoformat(),
        "pid": 1,
        "every_seconds": 15.0,
        "problems": problems or [],
    }
    heartbeat_path(data_dir).write_text(json.dumps(record), encoding="utf-8")


def test_health_command_checks_heartbeat_and_database(tmp_path: Path) -> None:
    workspace = write_config(tmp_path)
    data_dir = tmp_path / "data"
    missing = run_newsbot(["health"], env=workspace.env)
    assert missing.returncode == 1
    assert missing.stdout.startswith("unhealthy: no heartbeat at ")

    write_heartbeat(data_dir, age=1)
    no_database = run_newsbot(["health"], env=workspace.env)
    assert no_database.returncode == 1
    assert "no database file at" in no_database.stdout

    assert run_newsbot(["fetch"], env=workspace.env).returncode == 0  # creates the database
    write_heartbeat(data_dir, age=1)
    healthy = run_newsbot(["health"], env=workspace.env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert re.fullmatch(
        r"healthy: heartbeat \d+ s ago \(pid 1\), the database answers\n", healthy.stdout
    )

    write_heartbeat(data_dir, age=120)
    stale = run_newsbot(["health"], env=workspace.env)
    assert stale.returncode == 1
    assert re.fullmatch(
        r"unhealthy: the last heartbeat is 1\d\d s old \(one every 15 s\)\n", stale.stdout
    )

    write_heartbeat(data_dir, age=1, problems=["gateway disconnected for 300 s"])
    sick = run_newsbot(["health"], env=workspace.env)
    assert (sick.returncode, sick.stdout.strip()) == (
        1,
        "unhealthy: gateway disconnected for 300 s",
    )


def test_json_log_lines_carry_context_ids() -> None:
    record = logging.LogRecord("bot.x", logging.WARNING, "f.py", 1, "feed %s failed", ("a",), None)
    record.feed_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["logger"] == "bot.x"
    assert line["message"] == "feed a failed"
    assert line["feed_id"] == 7
    assert "guild_id" not in line
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_json_logs_from_the_cli_are_one_object_per_line(tmp_path: Path) -> None:
    workspace = write_config(tmp_path, extra='[log]\nformat = "json"\n')
    result = run_newsbot(["fetch", "https://not-configured.example/feed"], env=workspace.env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines
    for line in lines:
        document = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(document)


def test_metrics_text_counts_what_it_is_told() -> None:
    metrics = Metrics()
    feed = Feed(id=3, url="https://example.com/feed", name="Example")
    metrics.polled(
        [
            FeedRefresh(feed=feed, status="new", new_articles=4, fetch_seconds=0.2),
            FeedRefresh(feed=feed, status="not modified", fetch_seconds=0.01),
            FeedRefresh(feed=feed, status="error", error="slow", error_kind="FetchTimeoutError"),
        ]
    )
    metrics.delivered("alert", "sent", queued_at=NOW - timedelta(seconds=30), at=NOW)
    metrics.delivered("alert", "retry", queued_at=NOW, at=NOW)
    metrics.command_done("brief", 0.05, outcome="ok")
    text = metrics.exposition(Snapshot(3, 12.5, 40, 8192)).decode()
    for line in (
        'newsbot_polls_total{error="",outcome="new"} 1.0',
        'newsbot_polls_total{error="",outcome="not_modified"} 1.0',
        'newsbot_polls_total{error="FetchTimeoutError",outcome="error"} 1.0',
        "newsbot_items_ingested_total 4.0",
        "newsbot_fetch_seconds_count 2.0",
        'newsbot_deliveries_total{kind="alert",outcome="sent"} 1.0',
        'newsbot_deliveries_total{kind="alert",outcome="retry"} 1.0',
        "newsbot_alert_latency_seconds_sum 30.0",
        'newsbot_command_seconds_count{command="brief",outcome="ok"} 1.0',
        "newsbot_outbox_depth 3.0",
        "newsbot_outbox_oldest_age_seconds 12.5",
        "newsbot_stories 40.0",
        "newsbot_database_bytes 8192.0",
    ):
        assert line in text.splitlines(), line


def test_ops_listen_must_be_host_and_port(tmp_path: Path) -> None:
    workspace = write_config(tmp_path)
    result = run_newsbot(["brief"], env={**workspace.env, "NEWSBOT_OPS__LISTEN": "9464"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "newsbot: config error in ops.listen: expected host:port (e.g. 127.0.0.1:9464), got '9464'"
    )


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_console_stops_on_a_signal_while_it_waits_for_input(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    """SIGTERM (docker stop) and SIGINT stop the console within 2 s, even as PID 1 would
    (no default handlers are relied on), while it waits for a command on an open pipe."""
    workspace = write_config(tmp_path)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=REPO,
        env={**environment, **workspace.env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        briefing = process.stdout.readline()  # the briefing is printed: it now waits for input
        assert briefing
        process.send_signal(stop_signal)
        signalled = time.monotonic()
        process.wait(timeout=30)
        stopped_after = time.monotonic() - signalled
    finally:
        process.kill()
        _, errors = process.communicate()
    assert process.returncode == 0
    assert stopped_after < 2.0
    assert "Traceback" not in errors


def test_lock_file_pins_every_runtime_dependency() -> None:
    """requirements.lock (what the image installs) was refreshed after pyproject changed."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    pinned = {
        _normalise(match.group(1)) for match in re.finditer(r"^([A-Za-z0-9._-]+)==", lock, re.M)
    }
    for requirement in project["project"]["dependencies"]:
        name = _normalise(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0])
        assert name in pinned, f"{name} is not in requirements.lock: refresh it (see README)"
    assert "--hash=sha256:" in lock


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
