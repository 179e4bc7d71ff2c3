"""The parser pool: real worker processes, killed when they overrun, capped in memory."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import ExtractionError, ParseError
from bot.pipeline.isolation import MIB, IsolationLimits, ParserPool
from bot.pipeline.parse import TokenizingFeedParser, parse_feed
from tests.support import worker_faults
from tests.support.hostile_feeds import many_attributes, rss

REPO = Path(__file__).resolve().parents[2]
FEED = rss(
    "<item><title>Calm</title><link>http://news.example/calm</link>"
    "<description>Nothing to see.</description></item>"
).encode()


@pytest.fixture
async def pool() -> AsyncIterator[ParserPool]:
    async with ParserPool(
        IsolationLimits(workers=1, timeout=1.0, memory_bytes=512 * MIB)
    ) as running:
        yield running


async def test_parses_in_a_worker_like_in_process(pool: ParserPool) -> None:
    isolated = await pool.call(parse_feed, FEED, url="http://news.example/", error=ParseError)
    assert isolated == parse_feed(FEED, url="http://news.example/")


async def test_a_tokenizing_parser_reads_in_a_worker_like_in_process() -> None:
    feed = rss(
        "<item><title>Port Ellery switches on its floating solar farm</title>"
        "<link>http://news.example/solar</link><description>Port Ellery switched on a floating"
        " solar farm in its old harbour on Monday, the council said.</description></item>"
    ).encode()
    # A generous timeout: the worker's first call imports the parser, stemmer and numpy.
    async with ParserPool(IsolationLimits(workers=1, timeout=30.0)) as pool:
        isolated = await pool.call(
            TokenizingFeedParser, feed, url="http://news.example/", error=ParseError
        )
    assert isolated == TokenizingFeedParser()(feed, url="http://news.example/")
    reading = isolated.entries[0].cluster_reading
    assert reading is not None and reading.signature is not None  # the same MinHash permutations


async def test_a_worker_is_reused(pool: ParserPool) -> None:
    first = await pool.call(worker_faults.worker_pid, error=ParseError)
    assert await pool.call(worker_faults.worker_pid, error=ParseError) == first


async def test_a_class_named_in_calls_keeps_one_instance_per_worker(pool: ParserPool) -> None:
    first_pid, first = await pool.call(worker_faults.CallCounter, error=ParseError)
    assert await pool.call(worker_faults.CallCounter, 2, error=ParseError) == (first_pid, 3)
    assert first == 1


async def test_a_class_named_in_calls_starts_afresh_in_a_new_worker() -> None:
    async with ParserPool(IsolationLimits(workers=1, calls_per_worker=2)) as pool:
        counts = [await pool.call(worker_faults.CallCounter, error=ParseError) for _ in range(3)]
    assert [count for _, count in counts] == [1, 2, 1]
    assert counts[0][0] == counts[1][0] != counts[2][0]


async def test_the_callers_own_errors_pass_through(pool: ParserPool) -> None:
    with pytest.raises(ParseError, match=r"^not today$"):
        await pool.call(worker_faults.refuse, "not today", error=ExtractionError)
    with pytest.raises(ExtractionError, match="KeyError"):
        await pool.call(worker_faults.fail_with_a_bug, error=ExtractionError, what="the page")
    with pytest.raises(ParseError, match="could not be sent back"):
        await pool.call(worker_faults.unpicklable_result, error=ParseError)
    assert await pool.call(worker_faults.echo, "still here", error=ParseError) == "still here"


async def test_an_overrunning_call_is_killed_and_the_next_gets_a_fresh_worker(
    pool: ParserPool,
) -> None:
    first = await pool.call(worker_faults.worker_pid, error=ParseError)
    with pytest.raises(ParseError, match=r"^reading the feed took longer than 1 second$"):
        await pool.call(worker_faults.sleep, 60, error=ParseError, what="the feed")
    assert await pool.call(worker_faults.worker_pid, error=ParseError) != first


async def test_the_quadratic_feed_is_stopped_by_the_timeout(pool: ParserPool) -> None:
    with pytest.raises(ParseError, match="took longer"):
        await pool.call(parse_feed, many_attributes(), error=ParseError, what="the feed")
    assert (await pool.call(parse_feed, FEED, error=ParseError)).entries


async def test_memory_beyond_the_cap_fails_that_call_only(pool: ParserPool) -> None:
    with pytest.raises(ParseError, match="more than 512 MB of memory"):
        await pool.call(worker_faults.allocate, 2048, error=ParseError)
    assert await pool.call(worker_faults.allocate, 16, error=ParseError) == 16 * MIB


async def test_a_worker_that_dies_fails_only_its_call(pool: ParserPool) -> None:
    with pytest.raises(ParseError, match="stopped"):
        await pool.call(worker_faults.die, error=ParseError)
    assert await pool.call(worker_faults.echo, 1, error=ParseError) == 1


async def test_calls_beyond_the_worker_count_wait_their_turn() -> None:
    limits = IsolationLimits(workers=2, timeout=10.0)
    async with ParserPool(limits) as pool:
        pids = await asyncio.gather(
            *(pool.call(worker_faults.worker_pid, error=ParseError) for _ in range(6))
        )
    assert len(set(pids)) <= 2


async def test_workers_are_replaced_after_their_call_budget() -> None:
    async with ParserPool(IsolationLimits(workers=1, calls_per_worker=2)) as pool:
        pids = [await pool.call(worker_faults.worker_pid, error=ParseError) for _ in range(4)]
    assert pids[0] == pids[1] != pids[2] == pids[3]


async def test_a_cancelled_call_does_not_leave_its_worker_busy(pool: ParserPool) -> None:
    task = asyncio.create_task(pool.call(worker_faults.sleep, 60, error=ParseError))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await pool.call(worker_faults.echo, "next", error=ParseError) == "next"


async def test_close_stops_the_workers_and_later_calls_fail() -> None:
    pool = ParserPool(IsolationLimits(workers=1))
    pid = await pool.call(worker_faults.worker_pid, error=ParseError)
    await pool.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ParseError, match="shutting down"):
        await pool.call(worker_faults.echo, 1, error=ParseError)


async def test_zero_workers_runs_in_a_thread_of_this_process() -> None:
    async with ParserPool(IsolationLimits(workers=0)) as pool:
        assert await pool.call(worker_faults.worker_pid, error=ParseError) == os.getpid()
        assert await pool.call(worker_faults.CallCounter, error=ParseError) == (os.getpid(), 1)
        assert await pool.call(worker_faults.CallCounter, error=ParseError) == (os.getpid(), 2)


@pytest.mark.parametrize(
    "limits", [{"workers": -1}, {"timeout": 0}, {"memory_bytes": MIB}, {"calls_per_worker": 0}]
)
def test_limits_are_checked(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="invalid isolation limits"):
        IsolationLimits(**limits)


def test_workers_do_not_outlive_a_killed_bot(tmp_path: Path) -> None:
    script = (
        "import asyncio, os, signal\n"
        "from bot.core.errors import ParseError\n"
        "from bot.pipeline.isolation import ParserPool\n"
        "from tests.support import worker_faults\n"
        "async def main():\n"
        "    pool = ParserPool()\n"
        "    print(await pool.call(worker_faults.worker_pid, error=ParseError), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    bot = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert bot.returncode == -signal.SIGKILL
    worker = int(bot.stdout.strip())
    deadline = time.monotonic() + 30
    while process_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(worker)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped has finished)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
