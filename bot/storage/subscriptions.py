"""Subscriptions and briefing schedules, kept per guild, and forgetting a guild."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from bot.core.errors import StorageError
from bot.core.models import NewDelivery, Schedule, Subscription
from bot.storage.base import StorePart, schedule_from_row, subscription_from_row
from bot.storage.outbox import enqueue_in
from bot.storage.schema import briefed_stories, feeds, schedules, subscriptions

__all__ = ["ScheduleStore", "SubscriptionStore"]


class SubscriptionStore(StorePart):
    """Topic subscriptions."""

    def add_subscription(
        self,
        guild_id: int,
        user_id: int,
        query: str,
        delivery: str,
        channel_id: int | None,
        at: datetime,
        *,
        breaking_sources: int | None = None,
        breaking_minutes: int | None = None,
    ) -> Subscription:
        with self._engine.begin() as connection:
            new_id = connection.execute(
                subscriptions.insert().values(
                    guild_id=guild_id,
                    user_id=user_id,
                    query=query,
                    delivery=delivery,
                    channel_id=channel_id,
                    created_at=at,
                    breaking_sources=breaking_sources,
                    breaking_minutes=breaking_minutes,
                )
            ).inserted_primary_key[0]
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == new_id)
            ).one()
        return subscription_from_row(row._mapping)

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == subscription_id)
            ).first()
        return subscription_from_row(row._mapping) if row else None

    def list_subscriptions(self, guild_id: int, user_id: int | None = None) -> list[Subscription]:
        query = select(subscriptions).where(subscriptions.c.guild_id == guild_id)
        if user_id is not None:
            query = query.where(subscriptions.c.user_id == user_id)
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(subscriptions.c.id))
            return [subscription_from_row(row._mapping) for row in rows]

    def active_subscriptions(self) -> list[Subscription]:
        """Every active subscription, for the alert index."""
        query = select(subscriptions).where(subscriptions.c.active).order_by(subscriptions.c.id)
        with self._engine.connect() as connection:
            return [subscription_from_row(row._mapping) for row in connection.execute(query)]

    def remove_subscription(self, guild_id: int, user_id: int, subscription_id: int) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                subscriptions.delete().where(
                    subscriptions.c.id == subscription_id,
                    subscriptions.c.guild_id == guild_id,
                    subscriptions.c.user_id == user_id,
                )
            )
        return result.rowcount > 0

    def disable_subscription(self, subscription_id: int, reason: str) -> Subscription | None:
        """Stop a subscription whose deliveries cannot succeed; returns it, or None."""
        with self._engine.begin() as connection:
            connection.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(active=False, disabled_reason=reason[:300])
            )
            row = connection.execute(
                select(subscriptions).where(subscriptions.c.id == subscription_id)
            ).first()
        return subscription_from_row(row._mapping) if row else None

    def delete_guild(self, guild_id: int) -> None:
        """Forget a guild: its feeds, subscriptions and schedules (articles stay shared)."""
        if guild_id == 0:
            raise StorageError("guild 0 holds the config file's feeds and cannot be deleted")
        with self._engine.begin() as connection:
            for table in (subscriptions, schedules, feeds):
                connection.execute(table.delete().where(table.c.guild_id == guild_id))


class ScheduleStore(StorePart):
    """Scheduled briefings: schedules, their runs (claimed once) and what was briefed."""

    def add_schedule(
        self,
        guild_id: int,
        channel_id: int,
        time_of_day: str,
        timezone: str,
        days: tuple[int, ...],
        topic: str | None,
        created_by: int,
        at: datetime,
    ) -> Schedule:
        with self._engine.begin() as connection:
            new_id = connection.execute(
                schedules.insert().values(
                    guild_id=guild_id,
                    channel_id=channel_id,
                    time_of_day=time_of_day,
                    timezone=timezone,
                    days="".join(str(day) for day in days),
                    topic=topic,
                    created_by=created_by,
                    created_at=at,
                )
            ).inserted_primary_key[0]
            row = connection.execute(select(schedules).where(schedules.c.id == new_id)).one()
        return schedule_from_row(row._mapping)

    def list_schedules(self, guild_id: int | None = None) -> list[Schedule]:
        query = select(schedules).order_by(schedules.c.id)
        if guild_id is not None:
            query = query.where(schedules.c.guild_id == guild_id)
        with self._engine.connect() as connection:
            return [schedule_from_row(row._mapping) for row in connection.execute(query)]

    def remove_schedule(self, guild_id: int, schedule_id: int) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                schedules.delete().where(
                    schedules.c.id == schedule_id, schedules.c.guild_id == guild_id
                )
            )
        return result.rowcount > 0

    def disable_schedule(self, schedule_id: int, reason: str) -> Schedule | None:
        """Stop a schedule that is still active; returns it, or None when it already was."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id, schedules.c.active)
                .values(active=False, disabled_reason=reason[:500])
            ).rowcount
            row = connection.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        return schedule_from_row(row._mapping) if changed and row else None

    def briefed_story_ids(self, channel_id: int, story_ids: Sequence[str]) -> set[str]:
        """Which of these stories the channel was already briefed on."""
        query = select(briefed_stories.c.story_id).where(
            briefed_stories.c.channel_id == channel_id,
            briefed_stories.c.story_id.in_(list(story_ids)),
        )
        with self._engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def record_schedule_run(
        self,
        schedule: Schedule,
        due: datetime,
        delivery: NewDelivery | None,
        story_ids: Sequence[str],
        at: datetime,
    ) -> bool:
        """Claim the run of ``schedule`` due at ``due`` and, in the same transaction, enqueue its
        briefing and mark its stories briefed. False when that run was already claimed."""
        with self._engine.begin() as connection:
            claimed = connection.execute(
                update(schedules)
                .where(
                    schedules.c.id == schedule.id,
                    or_(schedules.c.last_run_at.is_(None), schedules.c.last_run_at < due),
                )
                .values(last_run_at=due)
            ).rowcount
            if not claimed:
                return False
            if delivery is not None:
                enqueue_in(connection, self._dialect, [delivery], at)
            if story_ids:
                connection.execute(
                    self._dialect.insert_ignoring(briefed_stories),
                    [
                        {"channel_id": schedule.channel_id, "story_id": story, "briefed_at": at}
                        for story in story_ids
                    ],
                )
        return True
