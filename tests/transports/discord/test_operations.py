"""What an operator sees of a running bot: /metrics and /healthz, and the heartbeat."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_config
from tests.discord_emulator import Emulator
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, story
from tests.transports.discord.conftest import start_bot, stop_bot, wait_for_articles

pytestmark = pytest.mark.slow

FAST = (
    "[poll]\ncheck_seconds = 0.3\ninterval_minutes = 0.02\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.2\n[ops]\nheartbeat_seconds = 1\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "")
    match = re.search(rf"^{pattern} (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_and_health_move_with_polls_and_deliveries(tmp_path: Path) -> None:
    feeds = FeedServer().start()
    base = feeds.base_url
    feeds.add("/wire.xml", rss("Wire", [story("harvest", 0, base)]))
    port = free_port()
    workspace = write_config(
        tmp_path, urls=[feeds.url("/wire.xml")], allow=[feeds.allow_entry], extra=FAST
    )
    env = {"NEWSBOT_OPS__LISTEN": f"127.0.0.1:{port}"}
    ops = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    async with Emulator() as emu, ops as client:
        guild = emu.add_guild(name="Ops")
        emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        process = await start_bot(emu, workspace.env, tmp_path / "bot.log", extra_env=env)
        try:
            await emu.wait_for_command_sync(timeout=60)
            await emu.wait_until_connected()
            await wait_for_articles(tmp_path / "data" / "newsbot.db", at_least=1)
            before = await scrape(client)
            assert sample(before, "newsbot_items_ingested_total") >= 1
            health = await client.get("/healthz")
            assert health.status_code == 200, health.text
            assert health.json() == {"status": "ok"}

            made = await (
                await emu.invoke("subscribe", {"query": "volcano"}, user_id=reader.user.id)
            ).wait_original()
            assert "Subscribed" in made.content
            items = [story("harvest", 0, base), story("volcano", 1, base)]
            feeds.add("/wire.xml", rss("Wire", items))
            await emu.wait_for(
                lambda: len(emu.dm_messages(reader.user.id)) >= 1, timeout=30, what="the alert"
            )
            await asyncio.sleep(0.5)  # the delivery round that sent it has counted it
            after = await scrape(client)
        finally:
            await stop_bot(process)
            feeds.stop()
    assert sample(after, "newsbot_polls_total", error="", outcome="new") > sample(
        before, "newsbot_polls_total", error="", outcome="new"
    )
    assert sample(after, "newsbot_items_ingested_total") > sample(
        before, "newsbot_items_ingested_total"
    )
    assert sample(after, "newsbot_deliveries_total", kind="alert", outcome="sent") == 1
    assert sample(after, "newsbot_alert_latency_seconds_count") == 1
    assert sample(after, "newsbot_fetch_seconds_count") >= 2
    assert sample(after, "newsbot_command_seconds_count", command="subscribe", outcome="ok") == 1
    assert sample(after, "newsbot_outbox_depth") == 0
    assert sample(after, "newsbot_database_bytes") > 0
    assert not list((tmp_path / "data").glob("heartbeat-*.json")), "a clean stop removes it"
