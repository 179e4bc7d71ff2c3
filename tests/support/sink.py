"""A message sink that records what would be posted, with Discord's nonce semantics.

Service tests use it where the Discord transport is not the subject; the end-to-end tests
use the real bot against the Discord emulator instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import DeliveryError


@dataclass(frozen=True)
class Posted:
    recipient_type: str
    recipient_id: int
    content: str
    embeds: tuple[Mapping[str, Any], ...]
    nonce: str
    message_id: str


@dataclass(frozen=True)
class Edited:
    recipient_type: str
    recipient_id: int
    message_id: str
    content: str
    embeds: tuple[Mapping[str, Any], ...]


@dataclass
class RecordingSink:
    """Posts land in ``posted``; a repeated nonce returns the first message (enforce_nonce)."""

    posted: list[Posted] = field(default_factory=list)
    failures: dict[tuple[str, int], DeliveryError] = field(default_factory=dict)
    """Recipients whose sends fail with this error."""
    edits: list[Edited] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    """Message ids a reader deleted: editing them fails."""
    _by_nonce: dict[str, Posted] = field(default_factory=dict)

    async def send(
        self,
        recipient_type: str,
        recipient_id: int,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
        nonce: str,
        *,
        follow: str | None = None,
    ) -> str:
        failure = self.failures.get((recipient_type, recipient_id))
        if failure is not None:
            raise failure
        if nonce in self._by_nonce:
            return self._by_nonce[nonce].message_id
        posted = Posted(
            recipient_type,
            recipient_id,
            content,
            tuple(embeds),
            nonce,
            str(1000 + len(self.posted)),
        )
        self.posted.append(posted)
        self._by_nonce[nonce] = posted
        return posted.message_id

    async def edit(
        self,
        recipient_type: str,
        recipient_id: int,
        message_id: str,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
    ) -> None:
        """Record an edit of a posted message; an unknown id fails as a deleted message."""
        failure = self.failures.get((recipient_type, recipient_id))
        if failure is not None:
            raise failure
        if message_id in self.deleted or not any(p.message_id == message_id for p in self.posted):
            raise DeliveryError(f"message {message_id} was deleted", permanent=True)
        self.edits.append(Edited(recipient_type, recipient_id, message_id, content, tuple(embeds)))

    def to(self, recipient_type: str, recipient_id: int) -> list[Posted]:
        return [
            p
            for p in self.posted
            if (p.recipient_type, p.recipient_id) == (recipient_type, recipient_id)
        ]
