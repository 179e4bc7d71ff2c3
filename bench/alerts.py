"""Topic alerts: match throughput against 100,000 subscriptions, and end-to-end latency.

    python3 dev.py bench alerts [--subscriptions N] [--articles N] [--samples N]

Part 1 runs ``bench/alerts_match.py`` (the percolator against generated subscriptions).
Part 2 measures what a subscriber feels: the real bot process (``python -m bot run``) polls a
loopback feed server and sends through the Discord emulator; each sample publishes one
matching item and times until the emulator records the DM. The bot runs with short poll and
delivery intervals (printed), so the figure is the pipeline's own latency on top of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import write_config  # noqa: E402
from tests.discord_emulator import Emulator  # noqa: E402
from tests.support.feed_server import FeedServer  # noqa: E402
from tests.support.feeds import rss, story  # noqa: E402
from tests.transports.discord.conftest import start_bot, stop_bot  # noqa: E402

INTERVALS = (
    "[poll]\ncheck_seconds = 0.2\ninterval_minutes = 0.01\nmin_interval_minutes = 0.01\n"
    "[alerts]\ndeliver_seconds = 0.1\nper_user_per_hour = 1000\n"
)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


async def latency(samples: int) -> list[float]:
    feeds = FeedServer().start()
    root = Path(tempfile.mkdtemp(prefix="newsbot-alerts-"))
    base = feeds.base_url
    items = [story("harvest", 0, base)]
    feeds.add("/wire.xml", rss("Wire", items))
    workspace = write_config(
        root, urls=[feeds.url("/wire.xml")], allow=[feeds.allow_entry], extra=INTERVALS
    )
    results = []
    async with Emulator() as emu:
        guild = emu.add_guild(name="Bench")
        emu.add_text_channel(guild.id, "general")
        reader = emu.add_member(guild.id, username="reader")
        process = await start_bot(emu, workspace.env, root / "bot.log")
        try:
            await emu.wait_for_command_sync(timeout=60)
            await emu.wait_until_connected()
            await (
                await emu.invoke("subscribe", {"query": "volcano"}, user_id=reader.user.id)
            ).wait_original()
            # the first poll records the feed's backlog as seen
            await emu.wait_for(lambda: bool(feeds.requests), timeout=60, what="first poll")
            await asyncio.sleep(0.5)
            for number in range(samples):
                items.append(story("volcano", number, base))
                started = time.perf_counter()
                feeds.add("/wire.xml", rss("Wire", items))
                await emu.wait_for_dm(reader.user.id, timeout=30)
                results.append(time.perf_counter() - started)
        finally:
            await stop_bot(process)
    feeds.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    print("## Match throughput\n", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "alerts_match.py"),
            "--subscriptions",
            str(args.subscriptions),
            "--articles",
            str(args.articles),
        ],
        check=True,
    )
    print("\n## End-to-end alert latency (feed server → bot → emulator DM)\n", flush=True)
    times = asyncio.run(latency(args.samples))
    quantiles = statistics.quantiles(times, n=20)
    print("| samples | poll check | feed interval | outbox cadence | p50 | p95 | max |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {len(times)} | 0.2 s | 0.6 s | 0.1 s | {statistics.median(times):.2f} s "
        f"| {quantiles[18]:.2f} s | {max(times):.2f} s |"
    )


if __name__ == "__main__":
    main()
