"""The outbox: deliveries planned in the same transaction as what caused them, claimed with a
lease, and marked sent, retried, failed, held for a digest or digested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, func, select, update

from bot.core.models import Delivery, NewDelivery
from bot.storage.base import StorePart, delivery_from_row
from bot.storage.engines import Dialect
from bot.storage.schema import outbox

__all__ = ["OutboxStore", "enqueue_in"]


def enqueue_in(
    connection: Connection, dialect: Dialect, deliveries: Sequence[NewDelivery], at: datetime
) -> int:
    """Insert deliveries in the caller's transaction, ignoring known dedupe keys; how many
    were new (counted by ``RETURNING``, which every engine reports for a batch)."""
    if not deliveries:
        return 0
    rows = [
        {
            "dedupe_key": delivery.dedupe_key,
            "kind": delivery.kind,
            "guild_id": delivery.guild_id,
            "recipient_type": delivery.recipient_type,
            "recipient_id": delivery.recipient_id,
            "story_id": delivery.story_id,
            "subscription_id": delivery.subscription_id,
            "feed_id": delivery.feed_id,
            "schedule_id": delivery.schedule_id,
            "payload": delivery.payload,
            "next_attempt_at": at,
            "created_at": at,
        }
        for delivery in deliveries
    ]
    insert = dialect.insert_ignoring(outbox).returning(outbox.c.id)
    return len(connection.execute(insert, rows).all())


class OutboxStore(StorePart):
    """Deliveries (the outbox)."""

    def enqueue(self, deliveries: Sequence[NewDelivery], at: datetime) -> int:
        """Add deliveries; those whose dedupe key exists are ignored. Returns how many were new."""
        with self._engine.begin() as connection:
            return enqueue_in(connection, self._dialect, deliveries, at)

    def claim_deliveries(
        self, now: datetime, limit: int, lease_until: datetime, *, owner: str | None = None
    ) -> list[Delivery]:
        """Pending deliveries that are due, oldest first, leased until ``lease_until`` to
        ``owner`` (see :meth:`release_claims`; on PostgreSQL concurrent claims skip each
        other's rows: ``FOR UPDATE SKIP LOCKED``)."""
        due = and_(outbox.c.status.in_(("pending", "sending")), outbox.c.next_attempt_at <= now)
        order = (outbox.c.next_attempt_at, outbox.c.id)
        leased = {
            "status": "sending",
            "attempts": outbox.c.attempts + 1,
            "next_attempt_at": lease_until,
            "claimed_by": owner,
        }
        return self._claim(outbox, due, order, limit, leased, delivery_from_row)

    def release_claims(self, now: datetime, *, owner: str | None = None) -> int:
        """After a restart: deliveries claimed and never finished are due again at ``now``:
        those ``owner`` claimed, or without an owner (one process alone on its database)
        every one. Returns how many."""
        sending = outbox.c.status == "sending"
        mine = sending if owner is None else sending & (outbox.c.claimed_by == owner)
        with self._engine.begin() as connection:
            return connection.execute(
                update(outbox).where(mine).values(status="pending", next_attempt_at=now)
            ).rowcount

    def mark_delivered(self, delivery_id: int, message_id: str, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="sent", message_id=message_id, sent_at=at, last_error=None)
            )

    def mark_retry(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="pending", next_attempt_at=retry_at, last_error=error[:500])
            )

    def mark_failed(self, delivery_id: int, error: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="failed", last_error=error[:500])
            )

    def hold_delivery(self, delivery_id: int) -> None:
        """Keep a delivery back for the recipient's next digest (a flood cap was hit)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox).where(outbox.c.id == delivery_id).values(status="held")
            )

    def count_sent(
        self, recipient_type: str, recipient_id: int, since: datetime, kinds: Sequence[str]
    ) -> int:
        """Messages of these kinds sent to one recipient since ``since``."""
        query = (
            select(func.count())
            .select_from(outbox)
            .where(
                outbox.c.recipient_type == recipient_type,
                outbox.c.recipient_id == recipient_id,
                outbox.c.status == "sent",
                outbox.c.kind.in_(kinds),
                outbox.c.sent_at >= since,
            )
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def held_deliveries(self) -> list[Delivery]:
        """Every held delivery, grouped by recipient, oldest first."""
        query = (
            select(outbox)
            .where(outbox.c.status == "held")
            .order_by(outbox.c.recipient_type, outbox.c.recipient_id, outbox.c.id)
        )
        with self._engine.connect() as connection:
            return [delivery_from_row(row._mapping) for row in connection.execute(query)]

    def digest_held(self, held_ids: Sequence[int], digest: NewDelivery, at: datetime) -> bool:
        """Replace held deliveries by one digest delivery, atomically."""
        with self._engine.begin() as connection:
            if not enqueue_in(connection, self._dialect, [digest], at):
                return False
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(held_ids)), outbox.c.status == "held")
                .values(status="digested")
            )
        return True

    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """Deliveries waiting to be sent (pending or being sent), and the oldest one's time."""
        query = select(func.count(), func.min(outbox.c.created_at)).where(
            outbox.c.status.in_(("pending", "sending"))
        )
        with self._engine.connect() as connection:
            count, oldest = connection.execute(query).one()
        return count, oldest

    def delivery_statuses(self) -> dict[str, int]:
        """How many deliveries are in each status (for status displays and tests)."""
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        with self._engine.connect() as connection:
            return {status: count for status, count in connection.execute(query)}
