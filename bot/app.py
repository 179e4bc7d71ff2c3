"""The composition root: the only place that picks concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from bot.config import DiscordSettings, Settings
from bot.core.models import FeedRefresh
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.refresh import Refresher
from bot.pipeline.summarize import Summarizer
from bot.render.text import render_briefing
from bot.services.briefing import BriefingService
from bot.services.feeds import FeedService
from bot.services.schedules import ScheduleService
from bot.services.search import SearchService
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService
from bot.services.summaries import SummaryService
from bot.storage.sql import SqlStore
from bot.transports.console import ConsoleChannel

__all__ = [
    "Services",
    "build_summarizer",
    "configure_logging",
    "open_services",
    "refresh_configured",
    "run_console",
    "run_discord",
    "utc_now",
]

log = logging.getLogger(__name__)


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


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level; quiet the per-request chatter of httpx."""
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


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


@asynccontextmanager
async def open_services(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Services]:
    """Open the store and the HTTP client, wire the services, and close both afterwards."""
    store = await asyncio.to_thread(SqlStore.open, settings.effective_database_url)
    try:
        async with Fetcher(fetch_limits(settings)) as fetcher:
            summaries = SummaryService(store, build_summarizer(settings), fetcher)
            limits = settings.limits
            yield Services(
                settings=settings,
                store=store,
                feeds=FeedService(
                    store,
                    Refresher(store, fetcher, clock),
                    max_per_guild=limits.feeds_per_guild,
                ),
                briefings=BriefingService(
                    store,
                    summaries,
                    clock,
                    default_hours=settings.briefing.hours,
                    max_stories=settings.briefing.max_stories,
                ),
                search=SearchService(store, summaries, clock),
                summaries=summaries,
                subscriptions=SubscriptionService(
                    store,
                    clock,
                    max_per_user=limits.subscriptions_per_user,
                    max_per_guild=limits.subscriptions_per_guild,
                ),
                schedules=ScheduleService(store, clock, max_per_guild=limits.schedules_per_guild),
                status=StatusService(store, clock),
            )
    finally:
        store.close()


async def refresh_configured(services: Services, urls: tuple[str, ...] = ()) -> list[FeedRefresh]:
    """Bring the config's sources into the store and refresh them (or only ``urls``)."""
    await services.feeds.sync_config_sources(services.settings.sources)
    results = await services.feeds.refresh(urls)
    for result in results:
        if result.status == "error":
            log.warning("%s: %s", result.feed.url, result.error)
    return results


async def run_console(
    settings: Settings, source: TextIO, sink: TextIO, *, brief_first: bool
) -> None:
    """The console channel on the configured sources: refresh, optionally brief, then prompt."""
    async with open_services(settings) as services:
        await refresh_configured(services)
        if brief_first:
            sink.write(render_briefing(await services.briefings.brief()) + "\n")
            sink.flush()
        channel = ConsoleChannel(services.briefings, services.search, services.summaries)
        await channel.run(source, sink, prompt=source.isatty())


async def run_discord(settings: Settings, discord_settings: DiscordSettings) -> None:
    """The Discord bot on the configured sources until the process is stopped."""
    from bot.transports.discord import run_bot  # discord.py loads only when it is used

    async with open_services(settings) as services:
        await services.feeds.sync_config_sources(settings.sources)
        first_refresh = asyncio.create_task(refresh_configured(services))
        try:
            await run_bot(services, discord_settings)
        finally:
            first_refresh.cancel()
