"""The composition root: the only place that picks concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import DiscordSettings, Settings
from bot.core.errors import ConfigError
from bot.core.models import Article, FeedRefresh
from bot.core.ports import NoTelemetry, Telemetry
from bot.ops.health import HealthMonitor, Heartbeat, Probe, heartbeat_path
from bot.ops.metrics import Metrics, Snapshot
from bot.ops.server import OpsServer
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.isolation import IsolationLimits, ParserPool
from bot.pipeline.refresh import Refresher
from bot.pipeline.stories import StoryAssigner
from bot.pipeline.summarize import Summarizer
from bot.render.text import render_briefing
from bot.services.alerts import AlertPlanner, PlannerChain
from bot.services.archive import ArchiveSearch
from bot.services.ask import AskService
from bot.services.briefing import BriefingService
from bot.services.delivery import DeliveryService, FloodCaps
from bot.services.feeds import FeedService
from bot.services.follows import FollowService
from bot.services.polling import Poller, PollPolicy
from bot.services.recap import RecapService
from bot.services.retention import RetentionService
from bot.services.schedules import ScheduleService
from bot.services.scheduling import BriefingScheduler
from bot.services.search import SearchService
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService
from bot.services.summaries import SummaryService
from bot.storage.sql import SqlStore
from bot.transports.console import ConsoleChannel

__all__ = [
    "Services",
    "build_scheduler",
    "build_summarizer",
    "open_services",
    "operate",
    "refresh_configured",
    "run_console",
    "run_discord",
    "run_until_stopped",
    "utc_now",
]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

STOP_GRACE_SECONDS = 5.0
PRUNE_EVERY = timedelta(hours=1)
QUIET_CHECK_EVERY = timedelta(minutes=10)
STORY_WARMUP_WINDOW = timedelta(days=7)
STORY_WARMUP_LIMIT = 5000


def utc_now() -> datetime:
    """The wall clock, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    """The use cases, wired to one store and one HTTP client."""

    settings: Settings
    store: SqlStore
    feeds: FeedService
    briefings: BriefingService
    search: SearchService
    summaries: SummaryService
    subscriptions: SubscriptionService
    schedules: ScheduleService
    status: StatusService
    alerts: AlertPlanner
    stories: StoryAssigner
    follows: FollowService
    recap: RecapService
    ask: AskService
    poller: Poller
    briefing_scheduler: BriefingScheduler
    retention: RetentionService
    clock: Callable[[], datetime]
    telemetry: Telemetry


def build_summarizer(settings: Settings) -> Summarizer:
    """The summariser the config asks for."""
    summary = settings.summary
    return Summarizer(
        sentences=summary.sentences, algorithm=summary.algorithm, language=summary.language
    )


def fetch_limits(settings: Settings) -> FetchLimits:
    """The fetcher's limits from the ``[fetch]`` section."""
    fetch = settings.fetch
    return FetchLimits(
        connect_timeout=fetch.connect_timeout,
        read_timeout=fetch.read_timeout,
        deadline=fetch.deadline,
        max_redirects=fetch.max_redirects,
        max_body_bytes=fetch.max_body_bytes,
        max_connections=fetch.max_connections,
        max_per_host=fetch.max_per_host,
        user_agent=fetch.user_agent,
        allow_networks=fetch.allow_networks,
    )


def isolation_limits(settings: Settings) -> IsolationLimits:
    """The parser workers' limits from the ``[parse]`` section."""
    parse = settings.parse
    return IsolationLimits(
        workers=parse.workers, timeout=parse.timeout, memory_bytes=parse.memory_mb * 1024 * 1024
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Services]:
    """Open the store and the HTTP client, wire the services, and close both afterwards.

    Metrics are kept only when ``ops.listen`` serves them."""
    store = await asyncio.to_thread(SqlStore.open, settings.effective_database_url)
    telemetry: Telemetry = Metrics() if settings.ops.listen else NoTelemetry()
    try:
        alerts = AlertPlanner(story_sources=store.story_sources_since)
        alerts.load(await asyncio.to_thread(store.active_subscriptions))
        stories = StoryAssigner(recent=lambda now: _recent_for_stories(store, now))
        async with (
            Fetcher(fetch_limits(settings)) as fetcher,
            ParserPool(isolation_limits(settings)) as parsers,
        ):
            summaries = SummaryService(store, build_summarizer(settings), fetcher, parsers=parsers)
            retention = RetentionService(store, clock, days=settings.retention.days)
            follows = FollowService(
                store,
                summaries,
                clock,
                edit_every=timedelta(minutes=settings.follows.edit_minutes),
                quiet_after=timedelta(hours=settings.follows.quiet_hours),
            )
            planner = PlannerChain((alerts, follows.planner))
            refresher = Refresher(
                store, fetcher, clock, planner, stories, parsers=parsers, retention=retention.keep
            )
            archive = ArchiveSearch(store)
            limits, poll, briefing = settings.limits, settings.poll, settings.briefing
            poll_policy = PollPolicy(
                interval_minutes=poll.interval_minutes,
                min_interval_minutes=poll.min_interval_minutes,
                max_interval_minutes=poll.max_interval_minutes,
                pause_after_hours=poll.pause_after_hours,
            )
            briefings = BriefingService(
                store,
                summaries,
                clock,
                default_hours=briefing.hours,
                max_stories=briefing.max_stories,
            )
            yield Services(
                settings=settings,
                store=store,
                feeds=FeedService(
                    store, refresher, clock, poll_policy, max_per_guild=limits.feeds_per_guild
                ),
                briefings=briefings,
                search=SearchService(store, summaries, clock),
                summaries=summaries,
                subscriptions=SubscriptionService(
                    store,
                    clock,
                    max_per_user=limits.subscriptions_per_user,
                    max_per_guild=limits.subscriptions_per_guild,
                    alerts=alerts,
                ),
                schedules=ScheduleService(store, clock, max_per_guild=limits.schedules_per_guild),
                status=StatusService(store, clock),
                retention=retention,
                alerts=alerts,
                stories=stories,
                follows=follows,
                recap=RecapService(store, clock, archive=archive),
                ask=AskService(store, clock, archive=archive),
                poller=Poller(store, refresher, clock, poll_policy, batch_size=poll.batch_size),
                briefing_scheduler=BriefingScheduler(
                    store,
                    briefings,
                    clock,
                    grace=timedelta(minutes=briefing.grace_minutes),
                    announce_empty=briefing.announce_empty,
                ),
                clock=clock,
                telemetry=telemetry,
            )
    finally:
        store.close()


def _recent_for_stories(store: SqlStore, now: datetime) -> list[Article]:
    """The recent articles new ones may continue, oldest first (replayed once, lazily)."""
    recent = store.articles_between(now - STORY_WARMUP_WINDOW, now, limit=STORY_WARMUP_LIMIT)
    log.info("story clustering warms up with %d recent articles", len(recent))
    return recent[::-1]


async def refresh_configured(
    services: Services,
    urls: tuple[str, ...] = (),
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[FeedRefresh]:
    """Bring the config's sources into the store and refresh them (or only ``urls``);
    ``progress`` is told (done, total) as feeds finish."""
    await services.feeds.sync_config_sources(services.settings.sources)
    results = await services.feeds.refresh(urls, progress=progress)
    for result in results:
        if result.status == "error":
            log.warning("%s: %s", result.feed.url, result.error)
    return results


async def run_console(
    settings: Settings, source: TextIO, sink: TextIO, *, brief_first: bool
) -> None:
    """The console channel on the configured sources: refresh, optionally brief, then prompt."""
    async with open_services(settings) as services, operate(services):
        await refresh_configured(services)
        if brief_first:
            sink.write(render_briefing(await services.briefings.brief()) + "\n")
            sink.flush()
        channel = ConsoleChannel(
            services.briefings,
            services.search,
            services.summaries,
            recap=services.recap,
            ask=services.ask,
            telemetry=services.telemetry,
        )
        await channel.run(source, sink, prompt=source.isatty())


async def run_discord(settings: Settings, discord_settings: DiscordSettings) -> None:
    """The Discord bot until the process is stopped: polling, scheduled briefings and the
    outbox run as three periodic APScheduler jobs beside it."""
    from bot.transports.discord import DiscordSink, build_bot, run_bot

    async with open_services(settings) as services:
        await services.feeds.sync_config_sources(settings.sources)
        bot = build_bot(services, discord_settings)
        delivery = DeliveryService(
            services.store,
            services.summaries,
            DiscordSink(bot),
            services.clock,
            FloodCaps(
                per_user_per_hour=settings.alerts.per_user_per_hour,
                per_channel_per_hour=settings.alerts.per_channel_per_hour,
            ),
            alerts=services.alerts,
            follows=services.follows,
            telemetry=services.telemetry,
        )
        released = await delivery.recover()
        if released:
            log.info("%d deliveries interrupted by the last stop will be sent again", released)
        scheduler = build_scheduler(settings, services, delivery)
        bot.call_when_ready(scheduler.start)  # a rejected token starts no background work
        probes = {"scheduler": _scheduler_probe(scheduler, bot), "gateway": bot.gateway_problem}
        async with operate(services, probes):
            serving = asyncio.create_task(run_bot(bot, discord_settings))
            loop = asyncio.get_running_loop()
            for stop_signal in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(
                    stop_signal, lambda: asyncio.ensure_future(_stop(bot, serving))
                )
            try:
                await serving
            except asyncio.CancelledError:
                if not serving.cancelled():
                    raise
            finally:
                if scheduler.running:
                    scheduler.shutdown(wait=False)
                log.info("stopped")


async def _stop(bot: Any, serving: asyncio.Task[None]) -> None:
    """Close the Discord client; if it does not return within a few seconds (discord.py sleeps
    out its reconnect backoff, minutes while Discord is unreachable), cancel it."""
    await bot.close()
    done, _ = await asyncio.wait({serving}, timeout=STOP_GRACE_SECONDS)
    if not done:
        log.info("Discord did not close within %s s; stopping anyway", STOP_GRACE_SECONDS)
        serving.cancel()


def build_scheduler(
    settings: Settings, services: Services, delivery: DeliveryService
) -> AsyncIOScheduler:
    """One job per kind of work, never one per feed: polling claims due feeds from the
    database, so it scales with the database, not with the scheduler. Retention runs hourly."""
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def poll_due() -> None:
        services.telemetry.polled(await services.poller.poll_due())

    jobs = (
        (poll_due, settings.poll.check_seconds),
        (services.briefing_scheduler.run_due, settings.briefing.check_seconds),
        (delivery.deliver_due, settings.alerts.deliver_seconds),
        (services.retention.prune, PRUNE_EVERY.total_seconds()),
        (services.follows.end_quiet, QUIET_CHECK_EVERY.total_seconds()),
    )
    for job, seconds in jobs:
        scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
    return scheduler


@asynccontextmanager
async def operate(
    services: Services, probes: dict[str, Probe] | None = None
) -> AsyncIterator[HealthMonitor]:
    """While a long-running process serves: its health probes (the database's and
    ``probes``), the heartbeat ``newsbot health`` reads, and with ``ops.listen`` the
    ``/metrics`` and ``/healthz`` endpoints."""
    settings = services.settings
    monitor = HealthMonitor({"database": _database_probe(services.store), **(probes or {})})
    heartbeat = Heartbeat(
        heartbeat_path(settings.data_dir),
        monitor,
        services.clock,
        every=settings.ops.heartbeat_seconds,
    )
    server: OpsServer | None = None
    address = settings.ops.listen_address
    if address is not None and isinstance(services.telemetry, Metrics):
        server = OpsServer(services.telemetry, lambda: _snapshot(services), monitor)
        try:
            await server.start(*address)
        except OSError as error:
            raise ConfigError("ops.listen", str(error)) from None
    beating = asyncio.create_task(heartbeat.run(), name="heartbeat")
    try:
        yield monitor
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
        if server is not None:
            await server.close()
        heartbeat.remove()


def _database_probe(store: SqlStore) -> Probe:
    async def probe() -> str | None:
        try:
            await asyncio.to_thread(store.ping)
        except Exception as error:
            log.warning("health: the database does not answer: %s", error)
            return "database unreachable"
        return None

    return probe


def _scheduler_probe(scheduler: AsyncIOScheduler, bot: Any) -> Probe:
    async def probe() -> str | None:
        if scheduler.running:
            return None
        if bot.is_ready():
            return "scheduler stopped"
        return "scheduler not started (Discord not ready)"

    return probe


async def _snapshot(services: Services) -> Snapshot:
    """The gauges' values now, read off the event loop."""

    def read() -> tuple[int, datetime | None, int]:
        depth, oldest = services.store.outbox_backlog()
        return depth, oldest, services.store.database_bytes()

    depth, oldest, size = await asyncio.to_thread(read)
    age = max((services.clock() - oldest).total_seconds(), 0.0) if oldest else 0.0
    return Snapshot(
        outbox_depth=depth,
        outbox_oldest_age_seconds=age,
        stories=len(services.stories),
        database_bytes=size,
    )


def run_until_stopped(main: Coroutine[Any, Any, _T]) -> tuple[_T | None, int | None]:
    """Run ``main`` on a new event loop until it returns or SIGTERM/SIGINT arrives.

    A signal cancels ``main``, so its context managers close the store, the workers and the
    HTTP client on the way out (as PID 1 in a container, SIGTERM would otherwise be ignored).
    Returns ``main``'s result and None, or None and the signal that stopped it."""

    async def supervise() -> tuple[_T | None, int | None]:
        task = asyncio.ensure_future(main)
        received: list[int] = []

        def stop(signum: int) -> None:
            received.append(signum)
            task.cancel()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await task, None
        except asyncio.CancelledError:
            if not received:
                raise
            return None, received[0]
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    # What is loaded by now (the modules, mostly) lives as long as the process: keep it out of
    # every garbage collection, the one at exit included, which otherwise takes seconds on a
    # busy machine and would hold up a stop.
    gc.freeze()
    result = asyncio.run(supervise())
    if result[1] is not None:
        log.info("stopped by signal %d", result[1])
    return result
