"""Messages that follow a story: members' DM story cards and channel alerts, edited as the
story develops; and which articles a guild may see. Portable SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from bot.core.follows import StoryMessage
from bot.core.models import NewDelivery
from bot.storage.base import StorePart
from bot.storage.outbox import enqueue_in
from bot.storage.schema import UTCDateTime, article_feeds, articles, feeds, metadata, outbox

__all__ = ["StoryFollowsMixin", "story_messages"]

story_messages = Table(
    "story_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("story_id", String(32), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("recipient_type", String(8), nullable=False),
    Column("recipient_id", BigInteger, nullable=False),
    Column("message_id", Text),
    Column("status", String(8), nullable=False, server_default="active"),
    Column("ended_reason", Text),
    Column("headline", Text, nullable=False, server_default=""),
    Column("shown", Text, nullable=False, server_default="[]"),
    Column("article_count", Integer, nullable=False, server_default="0"),
    Column("edits", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    UniqueConstraint("recipient_type", "recipient_id", "story_id", name="uq_story_messages"),
    Index("ix_story_messages_story", "story_id", "status"),
)


def _story_message(row: RowMapping) -> StoryMessage:
    values = dict(row)
    values["shown"] = tuple(json.loads(values["shown"] or "[]"))
    return StoryMessage(**values)


class StoryFollowsMixin(StorePart):
    """Store methods for story messages; a part of ``SqlStore``."""

    def follow_story(
        self, guild_id: int, user_id: int, story_id: str, headline: str, at: datetime
    ) -> tuple[StoryMessage, bool]:
        """Start (or restart) a member's follow of a story and enqueue its DM card, in one
        transaction. Returns the follow and whether it is new (False: already followed)."""
        key = {"recipient_type": "user", "recipient_id": user_id, "story_id": story_id}
        with self._engine.begin() as connection:
            row = _find(connection, **key)
            if row is not None and row["status"] == "active":
                return _story_message(row), False
            if row is None:
                message_id = connection.execute(
                    insert(story_messages).values(
                        guild_id=guild_id,
                        kind="card",
                        headline=headline,
                        created_at=at,
                        **key,
                    )
                ).inserted_primary_key[0]
            else:
                message_id = row["id"]
                connection.execute(
                    update(story_messages)
                    .where(story_messages.c.id == message_id)
                    .values(
                        status="active",
                        ended_reason=None,
                        message_id=None,
                        guild_id=guild_id,
                        shown="[]",
                        article_count=0,
                        created_at=at,
                    )
                )
            enqueue_in(
                connection,
                self._dialect,
                [
                    NewDelivery(
                        dedupe_key=f"card:{message_id}:{at.isoformat()}",
                        kind="card",
                        guild_id=guild_id,
                        recipient_type="user",
                        recipient_id=user_id,
                        story_id=story_id,
                        payload=json.dumps({"story_message": message_id}),
                    )
                ],
                at,
            )
            row = _find(connection, **key)
        assert row is not None
        return _story_message(row), True

    def story_follows(self, user_id: int) -> list[StoryMessage]:
        """A member's active and quiet follows, newest first."""
        query = (
            select(story_messages)
            .where(
                story_messages.c.recipient_type == "user",
                story_messages.c.recipient_id == user_id,
                story_messages.c.status != "ended",
            )
            .order_by(story_messages.c.created_at.desc(), story_messages.c.id.desc())
        )
        with self._engine.connect() as connection:
            return [_story_message(row._mapping) for row in connection.execute(query)]

    def end_story_message(
        self, story_message_id: int, reason: str, *, user_id: int | None = None
    ) -> StoryMessage | None:
        """Stop updating a message (an unfollow, a deleted message); with ``user_id``, only
        that member's own follow. Returns it, or None when there was no active one."""
        condition = [story_messages.c.id == story_message_id, story_messages.c.status != "ended"]
        if user_id is not None:
            condition += [
                story_messages.c.recipient_type == "user",
                story_messages.c.recipient_id == user_id,
            ]
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(story_messages).where(*condition).values(status="ended", ended_reason=reason)
            ).rowcount
            row = connection.execute(
                select(story_messages).where(story_messages.c.id == story_message_id)
            ).first()
        return _story_message(row._mapping) if changed and row else None

    def get_story_message(self, story_message_id: int) -> StoryMessage | None:
        """One story message by id."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(story_messages).where(story_messages.c.id == story_message_id)
            ).first()
        return _story_message(row._mapping) if row else None

    def active_story_messages(self, story_ids: Sequence[str]) -> list[StoryMessage]:
        """The messages still following any of these stories."""
        if not story_ids:
            return []
        query = select(story_messages).where(
            story_messages.c.story_id.in_(list(set(story_ids))),
            story_messages.c.status == "active",
        )
        with self._engine.connect() as connection:
            return [_story_message(row._mapping) for row in connection.execute(query)]

    def mark_delivered_tracking(
        self,
        delivery_id: int,
        message_id: str,
        at: datetime,
        *,
        story_id: str,
        guild_id: int,
        recipient_type: str,
        recipient_id: int,
        kind: str,
        headline: str,
        shown: Sequence[str],
        article_count: int,
    ) -> None:
        """Record a sent delivery and, in the same transaction, the message that now follows
        its story: a card gets its message id, an alert starts being tracked (the first one
        sent for the story in that channel)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="sent", message_id=message_id, sent_at=at, last_error=None)
            )
            values = {
                "message_id": message_id,
                "headline": headline,
                "shown": json.dumps(list(shown)),
                "article_count": article_count,
                "edited_at": at,
            }
            key = {
                "recipient_type": recipient_type,
                "recipient_id": recipient_id,
                "story_id": story_id,
            }
            row = _find(connection, **key)
            if row is None:
                connection.execute(
                    insert(story_messages).values(
                        guild_id=guild_id, kind=kind, created_at=at, **key, **values
                    )
                )
            elif row["kind"] == "card" and row["status"] == "active":
                connection.execute(
                    update(story_messages).where(story_messages.c.id == row["id"]).values(**values)
                )

    def record_story_edit(
        self,
        delivery_id: int,
        story_message_id: int,
        at: datetime,
        *,
        shown: Sequence[str],
        article_count: int,
        status: str = "active",
    ) -> None:
        """An edit was made: the delivery is sent and the message remembers what it shows
        (a ``quiet`` status stops its updates)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(status="sent", sent_at=at, last_error=None)
            )
            connection.execute(
                update(story_messages)
                .where(story_messages.c.id == story_message_id)
                .values(
                    shown=json.dumps(list(shown)),
                    article_count=article_count,
                    edits=story_messages.c.edits + 1,
                    edited_at=at,
                    status=status,
                )
            )

    def postpone_delivery(self, delivery_id: int, until: datetime) -> None:
        """Make a claimed delivery due again at ``until`` without counting it as an attempt
        (an edit waiting for its message's rate limit)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id == delivery_id)
                .values(
                    status="pending",
                    next_attempt_at=until,
                    attempts=case((outbox.c.attempts > 0, outbox.c.attempts - 1), else_=0),
                )
            )

    def quiet_story_messages(self, before: datetime) -> list[StoryMessage]:
        """Active messages whose story had no new article since ``before``."""
        newest = (
            select(func.max(articles.c.first_seen_at))
            .where(articles.c.story_id == story_messages.c.story_id)
            .scalar_subquery()
        )
        query = select(story_messages).where(
            story_messages.c.status == "active",
            story_messages.c.message_id.is_not(None),
            newest < before,
        )
        with self._engine.connect() as connection:
            return [_story_message(row._mapping) for row in connection.execute(query)]

    def visible_article_ids(self, guild_id: int, article_ids: Sequence[str]) -> set[str]:
        """Which of the articles came through a config feed (guild 0) or one of this guild's
        feeds; an article no feed holds any more (its feed removed) counts as public."""
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return set()
        allowed = (
            select(article_feeds.c.article_id)
            .join(feeds, feeds.c.id == article_feeds.c.feed_id)
            .where(article_feeds.c.article_id.in_(ids), feeds.c.guild_id.in_((0, guild_id)))
        )
        linked = select(article_feeds.c.article_id).where(article_feeds.c.article_id.in_(ids))
        with self._engine.connect() as connection:
            visible = set(connection.execute(allowed).scalars())
            linked_ids = set(connection.execute(linked).scalars())
        return visible | (set(ids) - linked_ids)


def _find(connection: Connection, **key: object) -> RowMapping | None:
    row = connection.execute(
        select(story_messages).where(
            *(getattr(story_messages.c, name) == value for name, value in key.items())
        )
    ).first()
    return row._mapping if row else None
