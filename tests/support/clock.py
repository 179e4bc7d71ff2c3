"""A clock tests can set and advance; services take it wherever they would read the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Callable like ``utc_now``; starts at ``start`` and moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment
