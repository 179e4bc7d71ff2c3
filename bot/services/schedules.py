"""Scheduled briefings: validated and stored here, run by the scheduler."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import ValidationError
from bot.core.models import Schedule
from bot.core.ports import Store
from bot.services.validation import check_query

__all__ = [
    "ScheduleService",
    "format_days",
    "known_timezones",
    "parse_days",
    "parse_time",
    "parse_timezone",
]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SETS = {
    "daily": (1, 2, 3, 4, 5, 6, 7),
    "everyday": (1, 2, 3, 4, 5, 6, 7),
    "weekdays": (1, 2, 3, 4, 5),
    "weekends": (6, 7),
}
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def parse_time(text: str) -> str:
    """``8:00``, ``08:00``, ``8am``, ``8:30 pm`` → ``HH:MM`` (24-hour)."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValidationError(f"“{text}” is not a time; use HH:MM, e.g. 08:00 or 18:30")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise ValidationError(f"“{text}” is not a time: with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValidationError(f"“{text}” is not a time of day (00:00 to 23:59)")
    return f"{hour:02d}:{minute:02d}"


def parse_timezone(name: str) -> str:
    """An IANA timezone name such as ``Europe/Berlin`` (``UTC`` allowed)."""
    cleaned = name.strip()
    if cleaned.upper() == "UTC":
        return "UTC"
    if not cleaned or len(cleaned) > 64 or ".." in cleaned or cleaned.startswith("/"):
        raise ValidationError(f"“{name}” is not a timezone; use a name like Europe/Berlin")
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            f"“{name}” is not a known timezone; use an IANA name like Europe/Berlin"
        ) from error
    return cleaned


def parse_days(text: str) -> tuple[int, ...]:
    """``daily``, ``weekdays``, ``weekends``, ``mon,wed,fri`` or ``mon-fri`` → ISO weekdays."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in _DAY_SETS:
        return _DAY_SETS[cleaned]
    days: set[int] = set()
    for part in filter(None, cleaned.split(",")):
        first, _, last = part.partition("-")
        start, end = _day(first, text), _day(last, text) if last else _day(first, text)
        span = range(start, end + 1) if start <= end else [*range(start, 8), *range(1, end + 1)]
        days.update(span)
    if not days:
        raise ValidationError("give the days, e.g. daily, weekdays, or mon,wed,fri")
    return tuple(sorted(days))


def format_days(days: tuple[int, ...]) -> str:
    """The shortest readable form of a set of ISO weekdays."""
    for name, members in _DAY_SETS.items():
        if days == members and name != "everyday":
            return name
    return ",".join(_DAY_NAMES[day - 1] for day in days)


def _day(token: str, original: str) -> int:
    prefix = token[:3]
    if prefix not in _DAY_NAMES or not _DAY_NAMES[_DAY_NAMES.index(prefix)].startswith(token[:3]):
        raise ValidationError(f"“{original}” has an unknown day; use mon, tue, … sun")
    return _DAY_NAMES.index(prefix) + 1


class ScheduleService:
    """Creates, lists and removes a guild's scheduled briefings."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], *, max_per_guild: int = 20
    ) -> None:
        self._store = store
        self._clock = clock
        self._max_per_guild = max_per_guild

    async def add(
        self,
        guild_id: int,
        channel_id: int,
        time_of_day: str,
        *,
        timezone: str = "UTC",
        days: str = "daily",
        topic: str | None = None,
        created_by: int,
    ) -> Schedule:
        """Validate and store a schedule; errors say which argument is wrong."""
        parsed_time = parse_time(time_of_day)
        zone = parse_timezone(timezone)
        parsed_days = parse_days(days)
        parsed_topic = check_query(topic) if topic else None

        def add() -> Schedule:
            if len(self._store.list_schedules(guild_id)) >= self._max_per_guild:
                raise ValidationError(
                    f"this server already has {self._max_per_guild} schedules, the most allowed"
                )
            return self._store.add_schedule(
                guild_id,
                channel_id,
                parsed_time,
                zone,
                parsed_days,
                parsed_topic,
                created_by,
                self._clock(),
            )

        return await asyncio.to_thread(add)

    async def list(self, guild_id: int) -> list[Schedule]:
        """A guild's schedules, oldest first."""
        return await asyncio.to_thread(self._store.list_schedules, guild_id)

    async def remove(self, guild_id: int, schedule_id: int) -> None:
        """Delete one of the guild's schedules."""
        if not await asyncio.to_thread(self._store.remove_schedule, guild_id, schedule_id):
            raise ValidationError(f"there is no schedule #{schedule_id} on this server")


def known_timezones() -> set[str]:
    """Every IANA timezone name this machine knows (for autocomplete)."""
    return available_timezones()
