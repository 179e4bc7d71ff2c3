"""Topic subscriptions: validated and stored here; the alert engine delivers them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from bot.core.errors import ValidationError
from bot.core.models import Subscription
from bot.core.ports import Store
from bot.pipeline.query import normalise_query, parse_query
from bot.services.alerts import AlertPlanner

__all__ = ["DELIVERIES", "SubscriptionService"]

DELIVERIES = ("dm", "here")
MAX_BREAKING_SOURCES = 10
MAX_BREAKING_MINUTES = 1440


class SubscriptionService:
    """A member's subscriptions within one guild."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        max_per_user: int = 25,
        max_per_guild: int = 1000,
        alerts: AlertPlanner | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._alerts = alerts
        self._max_per_user = max_per_user
        self._max_per_guild = max_per_guild
        self._marker: tuple[object, ...] | None = None

    async def subscribe(
        self,
        guild_id: int,
        user_id: int,
        query: str,
        delivery: str,
        channel_id: int,
        *,
        breaking_sources: int | None = None,
        breaking_minutes: int = 60,
    ) -> Subscription:
        """Validate the query and store the subscription (delivered by DM or in this channel).

        Breaking mode (``breaking_sources``): alert only once that many distinct sources
        covered the story within ``breaking_minutes``."""
        if delivery not in DELIVERIES:
            raise ValidationError(f"delivery must be dm or here, got {delivery!r}")
        if breaking_sources is not None and not 2 <= breaking_sources <= MAX_BREAKING_SOURCES:
            raise ValidationError(
                f"breaking mode needs 2 to {MAX_BREAKING_SOURCES} sources, got {breaking_sources}"
            )
        if not 5 <= breaking_minutes <= MAX_BREAKING_MINUTES:
            raise ValidationError(
                f"the breaking window is 5 to {MAX_BREAKING_MINUTES} minutes, "
                f"got {breaking_minutes}"
            )
        normalised = normalise_query(parse_query(query))

        def add() -> Subscription:
            existing = self._store.list_subscriptions(guild_id)
            mine = [s for s in existing if s.user_id == user_id]
            if any(s.query == normalised and s.delivery == delivery for s in mine):
                raise ValidationError(f"you already follow “{normalised}” by {delivery}")
            if len(mine) >= self._max_per_user:
                raise ValidationError(
                    f"you already have {self._max_per_user} subscriptions here, the most allowed"
                )
            if len(existing) >= self._max_per_guild:
                raise ValidationError("this server has reached its limit of subscriptions")
            return self._store.add_subscription(
                guild_id,
                user_id,
                normalised,
                delivery,
                channel_id if delivery == "here" else None,
                self._clock(),
                breaking_sources=breaking_sources,
                breaking_minutes=breaking_minutes if breaking_sources else None,
            )

        subscription = await asyncio.to_thread(add)
        if self._alerts is not None:
            self._alerts.add(subscription)
        return subscription

    async def follow_changes(self) -> bool:
        """Match what other processes subscribed or unsubscribed: when the store's marker
        moved since the last look, bring the alert index in line. True when it did."""
        if self._alerts is None:
            return False
        marker = await asyncio.to_thread(self._store.subscriptions_marker)
        if marker == self._marker:
            return False
        active = await asyncio.to_thread(self._store.active_subscriptions)
        self._alerts.replace_all(active)
        self._marker = marker
        return True

    async def list(self, guild_id: int, user_id: int) -> list[Subscription]:
        """The member's subscriptions in this guild."""
        return await asyncio.to_thread(self._store.list_subscriptions, guild_id, user_id)

    async def unsubscribe(self, guild_id: int, user_id: int, subscription_id: int) -> None:
        """Delete one of the member's own subscriptions."""
        removed = await asyncio.to_thread(
            self._store.remove_subscription, guild_id, user_id, subscription_id
        )
        if not removed:
            raise ValidationError(f"you have no subscription #{subscription_id} on this server")
        if self._alerts is not None:
            self._alerts.remove(subscription_id)
