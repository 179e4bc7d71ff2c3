"""Scheduled briefings: each run happens once, at its local time, even across restarts.

A run is claimed in the database (``last_run_at``) in the same transaction that enqueues its
briefing, so it is never posted twice. A run missed while the bot was down is posted once on
start if it is still within the grace period, else skipped and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.errors import StorageBusyError
from bot.core.models import NewDelivery, Schedule
from bot.core.ports import Store
from bot.render.embeds import briefing_pages
from bot.services.briefing import BriefingService

__all__ = ["BriefingScheduler", "ScheduleRun", "occurrences"]

log = logging.getLogger(__name__)


def occurrences(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """The UTC instants in (after, until] at which ``schedule`` is due.

    Each is the schedule's wall-clock time on one of its weekdays in its timezone, so an 08:00
    briefing stays at 08:00 local time when daylight saving time starts or ends.
    """
    zone = ZoneInfo(schedule.timezone)
    hour, minute = (int(part) for part in schedule.time_of_day.split(":"))
    first = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date() + timedelta(days=1)
    instants = []
    day: date = first
    while day <= last:
        if day.isoweekday() in schedule.days:
            local = datetime.combine(day, time(hour, minute), tzinfo=zone)
            instant = local.astimezone(UTC)
            if after < instant <= until:
                instants.append(instant)
        day += timedelta(days=1)
    return instants


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    """What happened to one due run."""

    schedule_id: int
    due: datetime
    outcome: str
    """``posted``, ``empty`` (nothing new, said so or stayed silent), ``skipped`` (missed
    beyond the grace period) or ``taken`` (another run already claimed it)."""


class BriefingScheduler:
    """Runs the schedules that are due."""

    def __init__(
        self,
        store: Store,
        briefings: BriefingService,
        clock: Callable[[], datetime],
        *,
        grace: timedelta,
        announce_empty: bool,
    ) -> None:
        self._store = store
        self._briefings = briefings
        self._clock = clock
        self._grace = grace
        self._announce_empty = announce_empty

    async def run_due(self) -> list[ScheduleRun]:
        """Enqueue the briefing of every schedule whose time has come since its last run.

        A locked database ends the round quietly; unclaimed runs are found on the next one."""
        try:
            return await asyncio.to_thread(self._run_due)
        except StorageBusyError as error:
            log.warning("scheduled briefings wait for the next round: %s", error)
            return []

    def _run_due(self) -> list[ScheduleRun]:
        now = self._clock()
        runs = []
        for schedule in self._store.list_schedules():
            if not schedule.active:
                continue  # its channel refused a briefing for good
            due = occurrences(schedule, schedule.last_run_at or schedule.created_at, now)
            if due:
                runs.append(self._run(schedule, due[-1], now))
        return runs

    def _run(self, schedule: Schedule, due: datetime, now: datetime) -> ScheduleRun:
        if now - due > self._grace:
            claimed = self._store.record_schedule_run(schedule, due, None, (), now)
            if claimed:
                log.warning(
                    "skipped briefing #%d due at %s: the bot was down past the %s grace period",
                    schedule.id,
                    due.isoformat(),
                    self._grace,
                )
            return ScheduleRun(schedule.id, due, "skipped" if claimed else "taken")
        briefing = self._briefings.unbriefed(schedule.channel_id, schedule.topic)
        pages = briefing_pages(briefing) if briefing.stories else []
        if not pages and self._announce_empty:
            about = f" about “{schedule.topic}”" if schedule.topic else ""
            pages_json = [
                {"content": f"No new stories{about} since the last briefing.", "embeds": []}
            ]
        else:
            pages_json = [{"content": p.content, "embeds": list(p.embeds)} for p in pages]
        delivery = None
        if pages_json:
            delivery = NewDelivery(
                dedupe_key=f"briefing:{schedule.id}:{due.isoformat()}",
                kind="briefing",
                guild_id=schedule.guild_id,
                recipient_type="channel",
                recipient_id=schedule.channel_id,
                schedule_id=schedule.id,
                payload=json.dumps({"pages": pages_json}),
            )
        story_ids = [story.id for story in briefing.stories]
        if not self._store.record_schedule_run(schedule, due, delivery, story_ids, now):
            return ScheduleRun(schedule.id, due, "taken")
        return ScheduleRun(schedule.id, due, "posted" if story_ids else "empty")
